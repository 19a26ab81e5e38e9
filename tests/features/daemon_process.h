// DaemonProcess: the daemon (//fs:ipnfs) started on a mount point the test chooses with exactly
// the flags the test gives (unlike MountedDaemon, no `--state=none` and no fresh directory), so
// that a test can kill it and start it again on the same mount point with the same state file.
//
// The destructor stops a daemon still running (SIGTERM, then SIGKILL) and, if the mount point is
// still mounted, unmounts it lazily. The daemon receives SIGTERM if the starting thread dies. Not
// thread-safe.
#ifndef IPNFS_TESTS_FEATURES_DAEMON_PROCESS_H_
#define IPNFS_TESTS_FEATURES_DAEMON_PROCESS_H_

#include <signal.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/features/feature_support.h"

namespace ipnfs::tests {

class DaemonProcess {
 public:
  // Runs `ipnfs FLAGS... MOUNT_POINT` and waits up to `timeout` for the mount. Fails, with the
  // daemon's stderr in the message, when it exits first or does not mount in time.
  static absl::StatusOr<std::unique_ptr<DaemonProcess>> Start(
      const std::string& mount_point, const std::vector<std::string>& flags,
      absl::Duration timeout = absl::Seconds(10));

  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  pid_t pid() const { return process_->pid(); }
  // Sends `signal` and waits up to `timeout` for the daemon to exit; its exit code (128+N when
  // killed by signal N), or nullopt when it still runs.
  std::optional<int> Signal(int signal, absl::Duration timeout = absl::Seconds(10));
  std::string StderrText() const { return process_->Stderr(); }

 private:
  DaemonProcess(std::string mount_point, std::unique_ptr<BackgroundProcess> process)
      : mount_point_(std::move(mount_point)), process_(std::move(process)) {}

  std::string mount_point_;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_FEATURES_DAEMON_PROCESS_H_
