// FrameCapture: `tcpdump -i INTERFACE -c 1` running in a network namespace, to check that a frame
// really left on a kernel interface, as a user would check it.
//
// Start() returns once tcpdump listens, so a frame sent from then on is seen. The tcpdump process
// (in its own process group) is killed when the object is destroyed, or with SIGKILL when the
// test's main thread dies. Not thread-safe.
#ifndef IPNFS_TESTS_TAP_FRAME_CAPTURE_H_
#define IPNFS_TESTS_TAP_FRAME_CAPTURE_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/tap/network_namespace.h"

namespace ipnfs::tests {

class FrameCapture {
 public:
  // Starts tcpdump on `interface` of `ns` for one frame that matches `filter` (a pcap filter
  // expression) and waits up to 5 s until it listens.
  static absl::StatusOr<std::unique_ptr<FrameCapture>> Start(const NetworkNamespace& ns,
                                                             const std::string& interface,
                                                             const std::string& filter);
  ~FrameCapture();
  FrameCapture(const FrameCapture&) = delete;
  FrameCapture& operator=(const FrameCapture&) = delete;

  // Waits up to `timeout` for tcpdump to capture its frame and exit. Success when it did; the
  // failure message has tcpdump's output.
  ::testing::AssertionResult Captured(absl::Duration timeout = absl::Seconds(5));

 private:
  FrameCapture(pid_t pid, int output_fd) : pid_(pid), output_fd_(output_fd) {}

  // Appends what tcpdump printed until `deadline`; false once it closed its output.
  bool ReadOutput(absl::Time deadline);

  pid_t pid_;
  int output_fd_;       // tcpdump's stdout and stderr.
  std::string output_;  // What it printed so far.
  bool exited_ = false;
};

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_TAP_FRAME_CAPTURE_H_
