#include "tests/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace ipnfs::tests {
namespace {

constexpr size_t kShownOutput = 4000;  // Bytes of each stream shown in a failure message.

// Only async-signal-safe calls from here on: the parent may run many threads.
void WriteChildError(const char* what, const char* path) {
  const char* parts[] = {"subprocess: cannot ", what, " ", path, "\n"};
  for (const char* part : parts) {
    [[maybe_unused]] ssize_t ignored = ::write(STDERR_FILENO, part, std::strlen(part));
  }
}

// Makes `fd` the descriptor `target` of the child, inheritable across exec.
void InstallFd(int fd, int target) {
  if (fd == target) {
    ::fcntl(target, F_SETFD, 0);
  } else {
    ::dup2(fd, target);
  }
}

[[noreturn]] void RunChild(char* const* argv, const char* cwd, const SpawnOptions& options,
                           int null_fd, pid_t parent) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2}) {
    ::sigaction(sig, &default_action, nullptr);
  }
  if (options.parent_death_signal != 0) {
    ::prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
    if (::getppid() != parent) ::_exit(127);  // The parent died before prctl().
  }
  if (options.new_process_group) ::setpgid(0, 0);
  InstallFd(null_fd, STDIN_FILENO);
  InstallFd(options.stdout_fd >= 0 ? options.stdout_fd : null_fd, STDOUT_FILENO);
  InstallFd(options.stderr_fd >= 0 ? options.stderr_fd : null_fd, STDERR_FILENO);
  ::close_range(3, ~0U, 0);
  if (cwd != nullptr && ::chdir(cwd) != 0) {
    WriteChildError("chdir to", cwd);
    ::_exit(127);
  }
  ::execv(argv[0], argv);
  WriteChildError("execute", argv[0]);
  ::_exit(127);
}

// Appends what `fd` has to `out`; false at end of file or on error.
bool ReadSome(int fd, std::string& out) {
  char buffer[65536];
  const ssize_t n = ::read(fd, buffer, sizeof(buffer));
  if (n > 0) {
    out.append(buffer, static_cast<size_t>(n));
    return true;
  }
  return n < 0 && (errno == EINTR || errno == EAGAIN);
}

// Reads both pipes into `out` and `err` until both are closed (true) or `deadline` (false).
bool ReadUntilClosed(int out_fd, int err_fd, absl::Time deadline, std::string& out,
                     std::string& err) {
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd fds[2] = {{out_open ? out_fd : -1, POLLIN, 0}, {err_open ? err_fd : -1, POLLIN, 0}};
    const int ready = ::poll(
        fds, 2, static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1000)));
    if (ready < 0 && errno != EINTR) return false;
    if (ready <= 0) continue;
    if (fds[0].revents != 0) out_open = ReadSome(out_fd, out);
    if (fds[1].revents != 0) err_open = ReadSome(err_fd, err);
  }
  return true;
}

std::string Shown(const std::string& text) {
  if (text.size() <= kShownOutput) return text;
  return absl::StrCat(text.substr(0, kShownOutput), "... (", text.size(), " bytes)");
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const CommandResult& result) {
  os << "exit code " << result.exit_code << (result.timed_out ? " (timed out)" : "") << " after "
     << result.elapsed << "\n--- stdout ---\n"
     << Shown(result.out) << "\n--- stderr ---\n"
     << Shown(result.err) << "\n--------------";
  return os;
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

pid_t Spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) {
    errno = EINVAL;
    return -1;
  }
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const char* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) return -1;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) RunChild(args.data(), cwd, options, null_fd, parent);
  const int saved_errno = errno;
  // Also from the parent, so that the group exists before anyone signals it.
  if (pid > 0 && options.new_process_group) ::setpgid(pid, pid);
  ::close(null_fd);
  errno = saved_errno;
  return pid;
}

std::optional<int> WaitForExit(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return ExitCodeOf(status);
    if (done < 0 && errno != EINTR) return -1;  // Not our child (any more).
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

CommandResult RunCommand(const std::vector<std::string>& argv, const CommandOptions& options) {
  CommandResult result;
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return result;
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return result;
  }
  const absl::Time start = absl::Now();
  SpawnOptions spawn;
  spawn.cwd = options.cwd;
  spawn.stdout_fd = out_pipe[1];
  spawn.stderr_fd = err_pipe[1];
  const pid_t pid = Spawn(argv, spawn);
  const int spawn_errno = errno;
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid < 0) {
    result.err = absl::StrCat("cannot start ", argv.empty() ? "" : argv[0], ": ",
                              std::strerror(spawn_errno));
  } else {
    if (!ReadUntilClosed(out_pipe[0], err_pipe[0], start + options.timeout, result.out,
                         result.err)) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      ReadUntilClosed(out_pipe[0], err_pipe[0], absl::Now() + absl::Seconds(2), result.out,
                      result.err);
    }
    const absl::Duration left = std::max(start + options.timeout - absl::Now(), absl::Seconds(1));
    std::optional<int> code = WaitForExit(pid, left);
    if (!code.has_value()) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      code = WaitForExit(pid, absl::Seconds(10));
    }
    ::kill(-pid, SIGKILL);  // Background jobs left behind.
    result.exit_code = code.value_or(-1);
  }
  result.elapsed = absl::Now() - start;
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  return result;
}

CommandResult RunShell(const std::string& command, const CommandOptions& options) {
  return RunCommand({"/bin/sh", "-c", command}, options);
}

}  // namespace ipnfs::tests
