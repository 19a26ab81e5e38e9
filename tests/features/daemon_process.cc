#include "tests/features/daemon_process.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tests/mounted_daemon.h"
#include "tests/subprocess.h"

namespace ipnfs::tests {

absl::StatusOr<std::unique_ptr<DaemonProcess>> DaemonProcess::Start(
    const std::string& mount_point, const std::vector<std::string>& flags, absl::Duration timeout) {
  std::vector<std::string> argv = {DaemonBinary()};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back(mount_point);
  auto process = std::make_unique<BackgroundProcess>(argv, "/");
  if (process->pid() < 0) return absl::InternalError("cannot start the daemon");
  auto daemon = std::unique_ptr<DaemonProcess>(new DaemonProcess(mount_point, std::move(process)));
  const bool mounted = WaitUntil(
      [&] { return IsMounted(mount_point) || daemon->process_->WaitForExit(absl::ZeroDuration()); },
      timeout);
  if (std::optional<int> code = daemon->process_->WaitForExit(absl::ZeroDuration())) {
    return absl::InternalError(absl::StrCat("the daemon exited with code ", *code,
                                            " before mounting; stderr:\n", daemon->StderrText()));
  }
  if (!mounted) {
    return absl::DeadlineExceededError(
        absl::StrCat("no mount on ", mount_point, "; stderr:\n", daemon->StderrText()));
  }
  return daemon;
}

DaemonProcess::~DaemonProcess() {
  if (!Signal(SIGTERM).has_value()) process_->Kill(SIGKILL);
  if (IsMounted(mount_point_)) RunCommand({"/usr/bin/fusermount3", "-u", "-z", mount_point_});
}

std::optional<int> DaemonProcess::Signal(int signal, absl::Duration timeout) {
  if (std::optional<int> code = process_->WaitForExit(absl::ZeroDuration())) return code;
  ::kill(process_->pid(), signal);
  return process_->WaitForExit(timeout);
}

}  // namespace ipnfs::tests
