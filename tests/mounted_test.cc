#include "tests/mounted_test.h"

#include <signal.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ipnfs::tests {

void MountedTest::SetUp() {
  absl::StatusOr<std::unique_ptr<MountedDaemon>> daemon = MountedDaemon::Start(Options());
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  daemon_ = *std::move(daemon);
}

void MountedTest::TearDown() {
  if (daemon_ == nullptr) return;
  const bool failed_before = HasFailure();
  EXPECT_EQ(daemon_->Stop(), 0) << "the daemon did not exit cleanly";
  if (HasFailure()) {
    ADD_FAILURE() << (failed_before ? "the test failed" : "the daemon failed")
                  << "; the daemon's stderr:\n"
                  << daemon_->StderrText();
    if (!killed_stderr_.empty()) {
      ADD_FAILURE() << "the stderr of the daemons killed before:\n" << killed_stderr_;
    }
  }
  daemon_.reset();
}

void MountedTest::KillDaemon() {
  ASSERT_EQ(daemon_->Stop(SIGKILL), 128 + SIGKILL);
  absl::StrAppend(&killed_stderr_, daemon_->StderrText());
  const CommandResult unmounted = RunCommand({"/usr/bin/fusermount3", "-u", daemon_->path()});
  ASSERT_EQ(unmounted.exit_code, 0) << unmounted;
  ASSERT_FALSE(IsMounted(daemon_->path()));
}

void MountedTest::RestartDaemon() {
  const absl::Status restarted = daemon_->Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;
}

}  // namespace ipnfs::tests
