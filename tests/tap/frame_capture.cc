#include "tests/tap/frame_capture.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "tests/subprocess.h"

namespace ipnfs::tests {

absl::StatusOr<std::unique_ptr<FrameCapture>> FrameCapture::Start(const NetworkNamespace& ns,
                                                                  const std::string& interface,
                                                                  const std::string& filter) {
  int output[2];
  if (::pipe2(output, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");
  SpawnOptions options;
  options.stdout_fd = output[1];
  options.stderr_fd = output[1];
  options.parent_death_signal = SIGKILL;
  // -l: line-buffered, so "listening on" and the frame show at once; -n -e: no lookups, MACs.
  const pid_t pid =
      Spawn(ns.Inside({"/usr/bin/tcpdump", "-i", interface, "-c", "1", "-n", "-e", "-l", filter}),
            options);
  const int spawn_errno = errno;
  ::close(output[1]);
  if (pid < 0) {
    ::close(output[0]);
    return absl::ErrnoToStatus(spawn_errno, "cannot start tcpdump");
  }
  auto capture = std::unique_ptr<FrameCapture>(new FrameCapture(pid, output[0]));
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (!absl::StrContains(capture->output_, "listening on")) {
    if (absl::Now() >= deadline || !capture->ReadOutput(deadline)) {
      return absl::InternalError("tcpdump does not listen:\n" + capture->output_);
    }
  }
  return capture;
}

FrameCapture::~FrameCapture() {
  if (!exited_) {
    ::kill(-pid_, SIGKILL);
    WaitForExit(pid_, absl::Seconds(10));
  }
  ::close(output_fd_);
}

bool FrameCapture::ReadOutput(absl::Time deadline) {
  const absl::Duration left = std::max(deadline - absl::Now(), absl::ZeroDuration());
  pollfd ready = {output_fd_, POLLIN, 0};
  const int n = ::poll(&ready, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
  if (n <= 0) return n == 0 || errno == EINTR;
  char buffer[4096];
  const ssize_t got = ::read(output_fd_, buffer, sizeof(buffer));
  if (got <= 0) return got < 0 && errno == EINTR;
  output_.append(buffer, static_cast<size_t>(got));
  return true;
}

::testing::AssertionResult FrameCapture::Captured(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline && ReadOutput(deadline)) {
  }
  if (std::optional<int> code = WaitForExit(pid_, absl::Milliseconds(100)); code.has_value()) {
    exited_ = true;
  }
  if (exited_ && absl::StrContains(output_, "1 packet captured")) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "tcpdump saw no matching frame within " << timeout << ":\n"
         << output_;
}

}  // namespace ipnfs::tests
