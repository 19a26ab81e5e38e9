// MountedDaemon: the ipnfs daemon (//fs:ipnfs, from the test's runfiles) running as a child
// process, mounted on a fresh temporary directory, as a user would run it.
//
// Start() makes /tmp/ipnfs_test.XXXXXX/ (mode 0755, so that other users can reach the mount),
// mounts the daemon on its mnt/ subdirectory with the daemon's stderr captured in stderr.log next
// to it, and returns once the mount shows in /proc/self/mountinfo. The destructor stops the daemon
// (SIGTERM; after a timeout SIGKILL and a lazy `fusermount3 -u -z`) and removes the directory.
// The daemon receives SIGTERM if the thread that started it dies (PR_SET_PDEATHSIG), so a crashed
// test leaves no mount behind. Flags in $IPNFS_TEST_DAEMON_FLAGS (space-separated) come before
// DaemonOptions::flags: test targets use it to run a suite on another FUSE transport. Not thread-safe: use one MountedDaemon from one thread at a time.
#ifndef IPNFS_TESTS_MOUNTED_DAEMON_H_
#define IPNFS_TESTS_MOUNTED_DAEMON_H_

#include <signal.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/subprocess.h"

namespace ipnfs::tests {

struct DaemonOptions {
  // Flags given to the daemon before the mount point, after the fixture's own `--state=none`
  // (tests start from an empty namespace and leave no state file behind).
  std::vector<std::string> flags;
  absl::Duration mount_timeout = absl::Seconds(10);
};

class MountedDaemon {
 public:
  // Starts the daemon and waits for its mount. Fails, with the daemon's stderr in the message,
  // when it exits or does not mount within options.mount_timeout (it is then killed).
  static absl::StatusOr<std::unique_ptr<MountedDaemon>> Start(const DaemonOptions& options = {});

  ~MountedDaemon();
  MountedDaemon(const MountedDaemon&) = delete;
  MountedDaemon& operator=(const MountedDaemon&) = delete;

  // The mount point.
  const std::string& path() const { return mount_point_; }
  // `name` under the mount point.
  std::string PathOf(absl::string_view name) const;
  pid_t pid() const { return pid_; }

  // Sends `signal` to a running daemon and waits up to `timeout` for it to exit. Returns its exit
  // code (128+N when killed by signal N), or -1 when it did not exit in time: it is then killed
  // (SIGKILL) and unmounted by force. Once the daemon has exited, returns that exit code again.
  int Stop(int signal = SIGTERM, absl::Duration timeout = absl::Seconds(10));

  // Waits up to `timeout` for the daemon to exit by itself (after an external unmount). Returns
  // its exit code as Stop() does, or nullopt if it still runs.
  std::optional<int> WaitForExit(absl::Duration timeout);

  // Everything the daemon wrote to stderr so far.
  std::string StderrText() const;

  // Runs `/bin/sh -c command` in the mount point (its working directory).
  CommandResult RunShell(const std::string& command,
                         absl::Duration timeout = absl::Seconds(30)) const;

 private:
  MountedDaemon(std::string directory, pid_t pid);

  std::string directory_;    // The temporary directory.
  std::string mount_point_;  // directory_/mnt
  std::string stderr_path_;  // directory_/stderr.log
  pid_t pid_;
  std::optional<int> exit_code_;  // Once reaped.
};

// The daemon binary in the runfiles: $TEST_SRCDIR/ipnfs/fs/ipnfs.
std::string DaemonBinary();

// True when `path` (resolved with realpath) is a mount point in /proc/self/mountinfo.
bool IsMounted(const std::string& path);

// Runs the daemon with `args` (flags and mount point, after `--state=none`) to completion, for
// start-up errors: the daemon is expected to exit by itself within `timeout`, else it is killed
// (and CommandResult::timed_out is set).
CommandResult RunDaemonToExit(const std::vector<std::string>& args,
                              absl::Duration timeout = absl::Seconds(10));

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_MOUNTED_DAEMON_H_
