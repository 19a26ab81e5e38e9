// MountedTest: the gtest fixture of the integration tests. It mounts a fresh daemon
// (MountedDaemon, with the options of Options()) for each test and, after the test, checks that
// the daemon is still healthy: it must exit cleanly (status 0) on SIGTERM. A daemon that crashed
// during the test (or, under --config=asan, reported an error) fails the test. The daemon's stderr
// is shown whenever the test failed. Set IPNFS_TEST_DEBUG=1 in the environment (bazel test
// --test_env=IPNFS_TEST_DEBUG=1) to run the daemon with --log_level=debug.
#ifndef IPNFS_TESTS_MOUNTED_TEST_H_
#define IPNFS_TESTS_MOUNTED_TEST_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "tests/mounted_daemon.h"
#include "tests/run_as.h"
#include "tests/subprocess.h"

namespace ipnfs::tests {

class MountedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<MountedDaemon>> daemon = MountedDaemon::Start(Options());
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
  }

  void TearDown() override {
    if (daemon_ == nullptr) return;
    const bool failed_before = HasFailure();
    EXPECT_EQ(daemon_->Stop(), 0) << "the daemon did not exit cleanly";
    if (HasFailure()) {
      ADD_FAILURE() << (failed_before ? "the test failed" : "the daemon failed")
                    << "; the daemon's stderr:\n"
                    << daemon_->StderrText();
    }
    daemon_.reset();
  }

  // The daemon's options; override to add flags, a state file or a launcher.
  virtual DaemonOptions Options() const { return DaemonOptions{}; }

  MountedDaemon& daemon() { return *daemon_; }
  // `name` under the mount point.
  std::string PathOf(absl::string_view name) const { return daemon_->PathOf(name); }
  // `/bin/sh -c command` as `as` in the mount point.
  CommandResult Shell(const std::string& command, const RunAs& as = {}) const {
    return daemon_->RunShell(command, as);
  }

  std::unique_ptr<MountedDaemon> daemon_;
};

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_MOUNTED_TEST_H_
