#include "tests/mounted_daemon.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace ipnfs::tests {
namespace {

// Keeps tests hermetic: no state file is read or written under /var/lib/ipnfs.
constexpr char kNoStateFlag[] = "--state=none";

absl::Status ErrnoStatus(absl::string_view what) { return absl::ErrnoToStatus(errno, what); }

// Undoes the octal escapes (\040 for a space) of /proc/self/mountinfo.
std::string UnescapeMountinfo(absl::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const std::string digits(field.substr(i + 1, 3));
      if (digits.size() == 3 && digits.find_first_not_of("01234567") == std::string::npos) {
        out.push_back(static_cast<char>(std::stoi(digits, nullptr, 8)));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The kernel and user stacks of every thread of `pid`, to tell where a hung daemon waits.
std::string ThreadDump(pid_t pid) {
  std::string dump;
  CommandResult kernel = RunShell(absl::StrCat(
      "for t in /proc/", pid, "/task/*; do echo \"thread ${t##*/}: $(cat $t/comm) in ",
      "$(cut -d' ' -f1 $t/syscall)\"; cat $t/stack; done"));
  dump += kernel.out;
  if (::access("/usr/bin/gdb", X_OK) == 0) {
    CommandOptions options;
    options.timeout = absl::Seconds(30);
    CommandResult user = RunCommand({"/usr/bin/gdb", "-p", std::to_string(pid), "-batch", "-nx",
                                     "-ex", "thread apply all bt"},
                                    options);
    dump += user.out;
  }
  return dump;
}

}  // namespace

std::string DaemonBinary() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/ipnfs/fs/ipnfs");
}

bool IsMounted(const std::string& path) {
  char real[PATH_MAX];
  const std::string resolved = ::realpath(path.c_str(), real) != nullptr ? real : path;
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    if (fields.size() > 4 && UnescapeMountinfo(fields[4]) == resolved) return true;
  }
  return false;
}

CommandResult RunDaemonToExit(const std::vector<std::string>& args, absl::Duration timeout) {
  std::vector<std::string> argv = {DaemonBinary(), kNoStateFlag};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.timeout = timeout;
  return RunCommand(argv, options);
}

absl::StatusOr<std::unique_ptr<MountedDaemon>> MountedDaemon::Start(const DaemonOptions& options) {
  char pattern[] = "/tmp/ipnfs_test.XXXXXX";
  if (::mkdtemp(pattern) == nullptr) return ErrnoStatus("mkdtemp");
  const std::string directory = pattern;
  const std::string mount_point = directory + "/mnt";
  if (::chmod(directory.c_str(), 0755) != 0) return ErrnoStatus("chmod");
  if (::mkdir(mount_point.c_str(), 0755) != 0) return ErrnoStatus("mkdir");
  const std::string stderr_path = directory + "/stderr.log";
  const int stderr_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (stderr_fd < 0) return ErrnoStatus("open stderr.log");

  std::vector<std::string> argv = {DaemonBinary(), kNoStateFlag};
  // The test target's environment may choose the FUSE transport (BUILD: env).
  if (const char* extra = std::getenv("IPNFS_TEST_DAEMON_FLAGS"); extra != nullptr) {
    for (absl::string_view flag : absl::StrSplit(extra, ' ', absl::SkipEmpty())) {
      argv.emplace_back(flag);
    }
  }
  argv.insert(argv.end(), options.flags.begin(), options.flags.end());
  argv.push_back(mount_point);
  SpawnOptions spawn;
  spawn.stderr_fd = stderr_fd;
  spawn.parent_death_signal = SIGTERM;
  const pid_t pid = Spawn(argv, spawn);
  const int spawn_errno = errno;
  ::close(stderr_fd);
  if (pid < 0) return absl::ErrnoToStatus(spawn_errno, "fork");
  // From here on the destructor cleans up, whatever happens.
  auto daemon = std::unique_ptr<MountedDaemon>(new MountedDaemon(directory, pid));

  const absl::Time deadline = absl::Now() + options.mount_timeout;
  while (!IsMounted(mount_point)) {
    if (std::optional<int> code = daemon->WaitForExit(absl::ZeroDuration())) {
      return absl::InternalError(absl::StrCat("the daemon exited with code ", *code,
                                              " before mounting; stderr:\n", daemon->StderrText()));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("no mount on ", mount_point, " after ",
                                                      absl::FormatDuration(options.mount_timeout),
                                                      "; stderr:\n", daemon->StderrText()));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return daemon;
}

MountedDaemon::MountedDaemon(std::string directory, pid_t pid)
    : directory_(std::move(directory)),
      mount_point_(directory_ + "/mnt"),
      stderr_path_(directory_ + "/stderr.log"),
      pid_(pid) {}

MountedDaemon::~MountedDaemon() {
  Stop(SIGTERM);
  if (IsMounted(mount_point_)) {
    RunCommand({"/usr/bin/fusermount3", "-u", "-z", mount_point_});
  }
  if (::rmdir(mount_point_.c_str()) != 0) {
    std::cerr << "MountedDaemon: leaving " << directory_ << " behind: rmdir " << mount_point_
              << ": " << std::strerror(errno) << "\n";
    return;
  }
  ::unlink(stderr_path_.c_str());
  ::rmdir(directory_.c_str());
}

std::string MountedDaemon::PathOf(absl::string_view name) const {
  return absl::StrCat(mount_point_, "/", name);
}

std::optional<int> MountedDaemon::WaitForExit(absl::Duration timeout) {
  if (!exit_code_.has_value()) exit_code_ = tests::WaitForExit(pid_, timeout);
  return exit_code_;
}

int MountedDaemon::Stop(int signal, absl::Duration timeout) {
  if (exit_code_.has_value()) return *exit_code_;
  ::kill(pid_, signal);
  if (std::optional<int> code = WaitForExit(timeout)) return *code;
  std::cerr << "MountedDaemon: the daemon did not exit within " << timeout << " after signal "
            << signal << "; its threads:\n"
            << ThreadDump(pid_) << "MountedDaemon: killing it\n";
  ::kill(pid_, SIGKILL);
  WaitForExit(absl::Seconds(10));
  RunCommand({"/usr/bin/fusermount3", "-u", "-z", mount_point_});
  exit_code_ = -1;
  return -1;
}

std::string MountedDaemon::StderrText() const { return ReadWholeFile(stderr_path_); }

CommandResult MountedDaemon::RunShell(const std::string& command, absl::Duration timeout) const {
  CommandOptions options;
  options.cwd = mount_point_;
  options.timeout = timeout;
  return tests::RunShell(command, options);
}

}  // namespace ipnfs::tests
