// MountedTest: a gtest fixture that mounts a fresh daemon (MountedDaemon) for each test and, after
// the test, checks that the daemon is still healthy: it must exit cleanly (status 0) on SIGTERM.
// A daemon that crashed during the test (or, under --config=asan, reported an error) fails the
// test. The daemon's stderr is shown whenever the test failed. Set IPNFS_TEST_DEBUG=1 in the
// environment (bazel test --test_env=IPNFS_TEST_DEBUG=1) to run the daemon with --log_level=debug.
#ifndef IPNFS_TESTS_MOUNTED_TEST_H_
#define IPNFS_TESTS_MOUNTED_TEST_H_

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "tests/mounted_daemon.h"
#include "tests/subprocess.h"

namespace ipnfs::tests {

class MountedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DaemonOptions options = Options();
    if (const char* debug = std::getenv("IPNFS_TEST_DEBUG"); debug != nullptr && *debug == '1') {
      options.flags.push_back("--log_level=debug");
    }
    absl::StatusOr<std::unique_ptr<MountedDaemon>> daemon = MountedDaemon::Start(options);
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

  // The daemon's options; override to add flags.
  virtual DaemonOptions Options() const { return DaemonOptions{}; }

  MountedDaemon& daemon() { return *daemon_; }
  // `name` under the mount point.
  std::string PathOf(absl::string_view name) const { return daemon_->PathOf(name); }
  // `/bin/sh -c command` in the mount point.
  CommandResult Shell(const std::string& command) const { return daemon_->RunShell(command); }

  std::unique_ptr<MountedDaemon> daemon_;
};

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_MOUNTED_TEST_H_
