// MountedDaemon: the ipnfs daemon (//fs:ipnfs, from the test's runfiles) running as a child
// process, mounted on a temporary directory, as a user would run it. The one way integration
// tests start the daemon; MountedTest (mounted_test.h) is the fixture built on it.
//
// Start() makes a TempDir, mounts the daemon on its mnt/ subdirectory and returns once the mount
// shows in /proc/self/mountinfo. The daemon's command line is, in this order: DaemonOptions's
// launcher, the daemon, `--state=none` or `--state=FILE`, the flags in $IPNFS_TEST_DAEMON_FLAGS
// (space-separated: the test target chooses the FUSE transport, see tests/mounted_test.bzl),
// DaemonOptions's flags, `--log_level=debug` when $IPNFS_TEST_DEBUG is 1, and the mount point.
// The daemon receives SIGTERM if the thread that started it dies (PR_SET_PDEATHSIG), so a crashed
// test leaves no mount behind. The destructor stops the daemon (SIGTERM; after a timeout SIGKILL
// and a lazy `fusermount3 -u -z`) and removes the directory. Restart() starts the daemon again on
// the same mount point and state file after it has stopped: restart and persistence tests.
//
// Not thread-safe: use one MountedDaemon from one thread at a time.
#ifndef IPNFS_TESTS_MOUNTED_DAEMON_H_
#define IPNFS_TESTS_MOUNTED_DAEMON_H_

#include <signal.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/background_process.h"
#include "tests/run_as.h"
#include "tests/subprocess.h"
#include "tests/temp_dir.h"

namespace ipnfs::tests {

struct DaemonOptions {
  // Flags for the daemon, after the harness's own (see above): later flags win.
  std::vector<std::string> flags;
  // The state file (--state=FILE), which outlives the daemon: the test keeps it, e.g. in a
  // TempDir, across Restart() or a second MountedDaemon. Empty: `--state=none`, so that a test
  // starts from an empty namespace and leaves no state behind.
  std::string state_file;
  // A program that runs the daemon: it must end by executing the arguments that follow it (the
  // daemon's command line), so that the daemon keeps its pid. Empty: the daemon runs directly.
  // E.g. WithoutNetAdmin(), or `unshare -m` for a private mount namespace.
  std::vector<std::string> launcher;
  absl::Duration mount_timeout = absl::Seconds(10);
};

// A launcher that takes CAP_NET_ADMIN from the daemon, from its bounding set too.
std::vector<std::string> WithoutNetAdmin();

class MountedDaemon {
 public:
  // Starts the daemon and waits for its mount. Fails, with the daemon's stderr in the message,
  // when it exits or does not mount within options.mount_timeout (it is then killed).
  static absl::StatusOr<std::unique_ptr<MountedDaemon>> Start(const DaemonOptions& options = {});

  ~MountedDaemon();
  MountedDaemon(const MountedDaemon&) = delete;
  MountedDaemon& operator=(const MountedDaemon&) = delete;

  // Starts the daemon again, with the same options on the same mount point, and waits for its
  // mount as Start() does (a daemon that does not mount in time runs on until Stop() or the
  // destructor). FailedPrecondition while the daemon still runs; the test unmounts a killed
  // daemon's dead mount first (fusermount3 -u), as a user would. StderrText() is then the new
  // daemon's.
  absl::Status Restart();

  // The mount point.
  const std::string& path() const { return mount_point_; }
  // `name` under the mount point.
  std::string PathOf(absl::string_view name) const;
  pid_t pid() const { return process_->pid(); }

  // Sends `signal` to a running daemon and waits up to `timeout` for it to exit. Returns its exit
  // code (128+N when killed by signal N), or -1 when it did not exit in time: it is then killed
  // (SIGKILL) and unmounted by force. Once the daemon has exited, returns that exit code again.
  int Stop(int signal = SIGTERM, absl::Duration timeout = absl::Seconds(10));

  // Waits up to `timeout` for the daemon to exit by itself (after an external unmount). Returns
  // its exit code as Stop() does, or nullopt if it still runs.
  std::optional<int> WaitForExit(absl::Duration timeout);

  // Everything the daemon (of the latest Start() or Restart()) wrote to stderr so far.
  std::string StderrText() const;

  // Runs `/bin/sh -c command` as `as` in the mount point (its working directory).
  CommandResult RunShell(const std::string& command, const RunAs& as = {},
                         absl::Duration timeout = absl::Seconds(30)) const;

 private:
  MountedDaemon(DaemonOptions options, std::unique_ptr<TempDir> directory);

  // Starts the daemon on mount_point_ and waits for its mount.
  absl::Status Run();

  const DaemonOptions options_;
  const std::unique_ptr<TempDir> directory_;
  const std::string mount_point_;               // directory_/mnt
  std::unique_ptr<BackgroundProcess> process_;  // The latest daemon.
  bool killed_by_force_ = false;                // Stop() had to kill it: its exit code is -1.
};

// The daemon binary in the runfiles: $TEST_SRCDIR/ipnfs/fs/ipnfs.
std::string DaemonBinary();

// True when `path` (resolved with realpath) is a mount point in /proc/self/mountinfo.
bool IsMounted(const std::string& path);

// Runs the daemon with `options` and then `args` (a mount point, or nothing) to completion, for
// start-up errors: the daemon is expected to exit by itself within `timeout`, else it is killed
// (and CommandResult::timed_out is set).
CommandResult RunDaemonToExit(const std::vector<std::string>& args,
                              const DaemonOptions& options = {},
                              absl::Duration timeout = absl::Seconds(10));

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_MOUNTED_DAEMON_H_
