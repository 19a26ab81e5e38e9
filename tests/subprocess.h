// Subprocess: runs other programs from integration tests (shell commands, the daemon, fusermount3)
// with captured output and a deadline, so that a hung program fails a test instead of hanging it.
//
// Safe to call from any thread, also while the test process runs many threads: the child does only
// async-signal-safe work between fork() and exec(). Children never inherit the test's descriptors
// beyond stdin, stdout and stderr.
#ifndef IPNFS_TESTS_SUBPROCESS_H_
#define IPNFS_TESTS_SUBPROCESS_H_

#include <sys/types.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace ipnfs::tests {

// How a finished command ended.
struct CommandResult {
  // The exit status; 128+N when killed by signal N (as shells report it); -1 when it could not run.
  int exit_code = -1;
  bool timed_out = false;  // Killed (with its whole process group) at the deadline.
  std::string out;         // Everything written to stdout.
  std::string err;         // Everything written to stderr.
  absl::Duration elapsed;  // From start to exit.
};

// Prints the exit code and both outputs, for test failure messages.
std::ostream& operator<<(std::ostream& os, const CommandResult& result);

struct CommandOptions {
  std::string cwd;                             // Empty: the test's working directory.
  absl::Duration timeout = absl::Seconds(30);  // Then SIGKILL to the command's process group.
};

// Runs `argv` (argv[0] is a path, not looked up in $PATH) to completion, stdin from /dev/null.
// The command runs in its own process group; whatever is left of that group when the command
// exits (background jobs of a shell) is killed.
CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options = {});

// Runs `/bin/sh -c command` with RunCommand().
CommandResult RunShell(const std::string& command, const CommandOptions& options = {});

// Where a spawned process's standard streams go: descriptors of the caller, or -1 for /dev/null.
struct SpawnOptions {
  std::string cwd;
  int stdout_fd = -1;
  int stderr_fd = -1;
  bool new_process_group = true;
  int parent_death_signal = 0;  // Sent to the child when the spawning thread dies; 0: none.
};

// Starts `argv` and returns its pid without waiting, or -1 with errno set.
pid_t Spawn(const std::vector<std::string>& argv, const SpawnOptions& options);

// Waits up to `timeout` for the child `pid` to exit and reaps it. Returns its exit code as in
// CommandResult, or nullopt if it is still running at the deadline.
std::optional<int> WaitForExit(pid_t pid, absl::Duration timeout);

// The exit code, as in CommandResult, of a waitpid() status.
int ExitCodeOf(int wait_status);

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_SUBPROCESS_H_
