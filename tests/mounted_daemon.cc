#include "tests/mounted_daemon.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/wait_until.h"

namespace ipnfs::tests {
namespace {

constexpr char kFusermount[] = "/usr/bin/fusermount3";

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

// The kernel and user stacks of every thread of `pid`, to tell where a hung daemon waits.
std::string ThreadDump(pid_t pid) {
  std::string dump;
  CommandResult kernel = RunShell(
      absl::StrCat("for t in /proc/", pid, "/task/*; do echo \"thread ${t##*/}: $(cat $t/comm) in ",
                   "$(cut -d' ' -f1 $t/syscall)\"; cat $t/stack; done"));
  dump += kernel.out;
  if (::access("/usr/bin/gdb", X_OK) == 0) {
    CommandOptions options;
    options.timeout = absl::Seconds(30);
    CommandResult user = RunCommand(
        {"/usr/bin/gdb", "-p", std::to_string(pid), "-batch", "-nx", "-ex", "thread apply all bt"},
        options);
    dump += user.out;
  }
  return dump;
}

// The daemon's command line up to its mount point (see the header for the order).
std::vector<std::string> DaemonCommand(const DaemonOptions& options) {
  std::vector<std::string> argv = options.launcher;
  argv.push_back(DaemonBinary());
  argv.push_back(options.state_file.empty() ? "--state=none"
                                            : absl::StrCat("--state=", options.state_file));
  if (const char* extra = std::getenv("IPNFS_TEST_DAEMON_FLAGS"); extra != nullptr) {
    for (absl::string_view flag : absl::StrSplit(extra, ' ', absl::SkipEmpty())) {
      argv.emplace_back(flag);
    }
  }
  argv.insert(argv.end(), options.flags.begin(), options.flags.end());
  return argv;
}

}  // namespace

std::vector<std::string> WithoutNetAdmin() {
  return {"/usr/bin/setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin", "--"};
}

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

CommandResult RunDaemonToExit(const std::vector<std::string>& args, const DaemonOptions& options,
                              absl::Duration timeout) {
  std::vector<std::string> argv = DaemonCommand(options);
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions command;
  command.timeout = timeout;
  return RunCommand(argv, command);
}

absl::StatusOr<std::unique_ptr<MountedDaemon>> MountedDaemon::Start(const DaemonOptions& options) {
  auto directory = std::make_unique<TempDir>();
  if (directory->path().empty()) return absl::InternalError("cannot make a temporary directory");
  if (::mkdir(directory->PathOf("mnt").c_str(), 0755) != 0) {
    return absl::ErrnoToStatus(errno, "mkdir mnt");
  }
  // From here on the destructor cleans up, whatever happens.
  auto daemon = std::unique_ptr<MountedDaemon>(new MountedDaemon(options, std::move(directory)));
  if (absl::Status started = daemon->Run(); !started.ok()) return started;
  return daemon;
}

MountedDaemon::MountedDaemon(DaemonOptions options, std::unique_ptr<TempDir> directory)
    : options_(std::move(options)),
      directory_(std::move(directory)),
      mount_point_(directory_->PathOf("mnt")) {}

MountedDaemon::~MountedDaemon() {
  if (process_ != nullptr) Stop(SIGTERM);
  if (IsMounted(mount_point_)) RunCommand({kFusermount, "-u", "-z", mount_point_});
}

absl::Status MountedDaemon::Run() {
  std::vector<std::string> argv = DaemonCommand(options_);
  if (const char* debug = std::getenv("IPNFS_TEST_DEBUG"); debug != nullptr && *debug == '1') {
    argv.push_back("--log_level=debug");
  }
  argv.push_back(mount_point_);
  process_ = std::make_unique<BackgroundProcess>(argv, "", SIGTERM);
  killed_by_force_ = false;
  if (process_->pid() < 0) return absl::InternalError("cannot start the daemon");
  std::optional<int> exited;
  const bool mounted = WaitUntil(
      [&] {
        exited = WaitForExit(absl::ZeroDuration());
        return exited.has_value() || IsMounted(mount_point_);
      },
      options_.mount_timeout);
  if (exited.has_value()) {
    return absl::InternalError(absl::StrCat("the daemon exited with code ", *exited,
                                            " before mounting; stderr:\n", StderrText()));
  }
  if (!mounted) {
    return absl::DeadlineExceededError(absl::StrCat("no mount on ", mount_point_, " after ",
                                                    absl::FormatDuration(options_.mount_timeout),
                                                    "; stderr:\n", StderrText()));
  }
  return absl::OkStatus();
}

absl::Status MountedDaemon::Restart() {
  if (!WaitForExit(absl::ZeroDuration()).has_value()) {
    return absl::FailedPreconditionError("the daemon still runs");
  }
  return Run();
}

std::string MountedDaemon::PathOf(absl::string_view name) const {
  return absl::StrCat(mount_point_, "/", name);
}

std::optional<int> MountedDaemon::WaitForExit(absl::Duration timeout) {
  std::optional<int> code = process_->WaitForExit(timeout);
  if (code.has_value() && killed_by_force_) return -1;
  return code;
}

int MountedDaemon::Stop(int signal, absl::Duration timeout) {
  if (std::optional<int> code = WaitForExit(absl::ZeroDuration())) return *code;
  ::kill(pid(), signal);
  if (std::optional<int> code = WaitForExit(timeout)) return *code;
  std::cerr << "MountedDaemon: the daemon did not exit within " << timeout << " after signal "
            << signal << "; its threads:\n"
            << ThreadDump(pid()) << "MountedDaemon: killing it\n";
  killed_by_force_ = true;
  process_->Kill(SIGKILL);
  RunCommand({kFusermount, "-u", "-z", mount_point_});
  return -1;
}

std::string MountedDaemon::StderrText() const { return process_->Stderr(); }

CommandResult MountedDaemon::RunShell(const std::string& command, const RunAs& as,
                                      absl::Duration timeout) const {
  CommandOptions options;
  options.cwd = mount_point_;
  options.timeout = timeout;
  return RunCommand(as.Command({"/bin/sh", "-c", command}), options);
}

}  // namespace ipnfs::tests
