// BackgroundProcess: a program an integration test runs beside itself (tcpdump, head, grep, the
// daemon), its stdout and stderr going to files of its own TempDir, in its own process group.
// Destroying it kills the whole group; so does the death of the thread that started it.
//
// Not thread-safe: use one object from one thread.
#ifndef IPNFS_TESTS_BACKGROUND_PROCESS_H_
#define IPNFS_TESTS_BACKGROUND_PROCESS_H_

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/temp_dir.h"

namespace ipnfs::tests {

class BackgroundProcess {
 public:
  // Starts `argv` (argv[0] a path) in `cwd` (empty: the test's working directory); pid() is -1
  // when it could not start. The program gets `parent_death_signal` when the starting thread dies.
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& cwd,
                    int parent_death_signal = SIGKILL);
  // Kill(SIGKILL).
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Its exit code (as CommandResult's) once it exits within `timeout`; nullopt if it still runs.
  // Once it has exited, returns that exit code again.
  std::optional<int> WaitForExit(absl::Duration timeout);
  // Unless it has exited: sends `signal` to its process group and reaps it, with SIGKILL after
  // 5 s when it does not exit.
  void Kill(int signal = SIGKILL);
  // Everything it wrote so far.
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  TempDir directory_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_BACKGROUND_PROCESS_H_
