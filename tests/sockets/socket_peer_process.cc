#include "tests/sockets/socket_peer_process.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/subprocess.h"
#include "tests/temp_dir.h"
#include "tests/wait_until.h"

namespace ipnfs::tests {

const std::string& SocketPeerBinary() {
  // Removed with its copy when the test process exits.
  static TempDir directory;
  static const std::string binary = [] {
    const char* srcdir = std::getenv("TEST_SRCDIR");
    const std::string original =
        absl::StrCat(srcdir != nullptr ? srcdir : ".", "/ipnfs/tests/sockets/socket_peer");
    const std::string copy = directory.PathOf("socket_peer");
    if (RunCommand({"/bin/cp", original, copy}).exit_code != 0 ||
        RunCommand({"/bin/chmod", "0755", copy}).exit_code != 0) {
      return original;  // The peer then cannot start as another user, and the test says so.
    }
    return copy;
  }();
  return binary;
}

SocketPeer::SocketPeer(const RunAs& as, SocketKind kind, const std::string& path,
                       const std::vector<std::string>& steps) {
  std::vector<std::string> argv = {SocketPeerBinary(), NameOf(kind), path};
  argv.insert(argv.end(), steps.begin(), steps.end());
  process_ = std::make_unique<BackgroundProcess>(as.Command(argv), "/tmp");
}

std::vector<std::string> SocketPeer::Lines() const {
  return absl::StrSplit(process_->Stdout(), '\n', absl::SkipEmpty());
}

bool SocketPeer::WaitForLines(size_t count, absl::Duration timeout) {
  return WaitUntil([&] { return Lines().size() >= count; }, timeout);
}

std::vector<std::string> SocketPeer::Finish(absl::Duration timeout) {
  const bool exited = process_->WaitForExit(timeout).has_value();
  if (!exited) process_->Kill(SIGKILL);
  std::vector<std::string> lines = Lines();
  if (!exited) lines.push_back("(still running)");
  return lines;
}

}  // namespace ipnfs::tests
