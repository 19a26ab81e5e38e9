// socket_peer: a socket-face client in a process of its own, so that a test can run it as another
// user (setpriv, tests/run_as.h): the daemon checks the credentials of the process that connects.
//
//   socket_peer seqpacket|stream PATH STEP...
//
// Connects to PATH once, then runs the steps in order. Every step prints one line on stdout,
// flushed at once, so that a test can follow along:
//   (the connect)  "connected" | "connect ERRNO_NAME"  (then it exits)
//   send=TEXT      "sent N" | "send ERRNO_NAME"
//   recv=MS        "recv TEXT" | "eof" | "timeout" | "recv ERRNO_NAME"  (waits up to MS ms)
//   await=FILE     "awaited" | "await timeout"  (waits up to 10 s until FILE exists)
// Exits 0 once the steps are done; 2 on a usage error.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/sockets/socket_client.h"

namespace ipnfs::tests {
namespace {

void Say(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

std::string ErrorName(int error) {
  const char* name = ::strerrorname_np(error);
  return name != nullptr ? name : std::to_string(error);
}

// Runs one step; false on a step it does not understand.
bool RunStep(SocketClient& client, absl::string_view step) {
  if (absl::ConsumePrefix(&step, "send=")) {
    const IoResult sent = client.Send(step);
    Say(sent.error == 0 ? "sent " + std::to_string(sent.count) : "send " + ErrorName(sent.error));
    return true;
  }
  if (absl::ConsumePrefix(&step, "recv=")) {
    int milliseconds = 0;
    if (!absl::SimpleAtoi(step, &milliseconds)) return false;
    const IoResult got = client.Receive(absl::Milliseconds(milliseconds));
    if (got.error == ETIMEDOUT) {
      Say("timeout");
    } else if (got.error != 0) {
      Say("recv " + ErrorName(got.error));
    } else if (got.count == 0) {
      Say("eof");
    } else {
      Say("recv " + got.bytes);
    }
    return true;
  }
  if (absl::ConsumePrefix(&step, "await=")) {
    const std::string file(step);
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (::access(file.c_str(), F_OK) != 0 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    Say(::access(file.c_str(), F_OK) == 0 ? "awaited" : "await timeout");
    return true;
  }
  return false;
}

int Main(int argc, char** argv) {
  if (argc < 3 || (std::strcmp(argv[1], "seqpacket") != 0 && std::strcmp(argv[1], "stream") != 0)) {
    std::fprintf(stderr, "usage: %s seqpacket|stream PATH STEP...\n", argv[0]);
    return 2;
  }
  const SocketKind kind =
      std::strcmp(argv[1], "seqpacket") == 0 ? SocketKind::kSeqpacket : SocketKind::kStream;
  SocketClient client = SocketClient::Connect(kind, argv[2]);
  if (!client.valid()) {
    Say("connect " + ErrorName(client.error()));
    return 0;
  }
  Say("connected");
  for (int i = 3; i < argc; ++i) {
    if (!RunStep(client, argv[i])) {
      std::fprintf(stderr, "socket_peer: bad step: %s\n", argv[i]);
      return 2;
    }
  }
  return 0;
}

}  // namespace
}  // namespace ipnfs::tests

int main(int argc, char** argv) { return ipnfs::tests::Main(argc, argv); }
