#include "tests/background_process.h"

#include <fcntl.h>
#include <unistd.h>

#include "tests/subprocess.h"

namespace ipnfs::tests {

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const std::string& cwd,
                                     int parent_death_signal) {
  const int out = ::open(directory_.PathOf("stdout").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  const int err = ::open(directory_.PathOf("stderr").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  SpawnOptions options;
  options.cwd = cwd;
  options.stdout_fd = out;
  options.stderr_fd = err;
  options.parent_death_signal = parent_death_signal;
  pid_ = Spawn(argv, options);
  ::close(out);
  ::close(err);
}

BackgroundProcess::~BackgroundProcess() { Kill(); }

std::optional<int> BackgroundProcess::WaitForExit(absl::Duration timeout) {
  if (pid_ > 0 && !exit_code_.has_value()) exit_code_ = tests::WaitForExit(pid_, timeout);
  return exit_code_;
}

void BackgroundProcess::Kill(int signal) {
  if (pid_ <= 0 || exit_code_.has_value()) return;
  ::kill(-pid_, signal);
  if (!WaitForExit(absl::Seconds(5)).has_value()) {
    ::kill(-pid_, SIGKILL);
    WaitForExit(absl::Seconds(5));
  }
}

std::string BackgroundProcess::Stdout() const { return ReadFileText(directory_.PathOf("stdout")); }

std::string BackgroundProcess::Stderr() const { return ReadFileText(directory_.PathOf("stderr")); }

}  // namespace ipnfs::tests
