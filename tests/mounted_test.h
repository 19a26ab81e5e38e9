// MountedTest: the gtest fixture of the integration tests. It mounts a fresh daemon
// (MountedDaemon, with the options of Options()) for each test and, after the test, checks that
// the daemon is still healthy: it must exit cleanly (status 0) on SIGTERM. A daemon that crashed
// during the test (or, under --config=asan, reported an error) fails the test. The daemon's stderr
// (and that of the daemons killed before a restart) is shown whenever the test failed. Set
// IPNFS_TEST_DEBUG=1 in the environment (bazel test --test_env=IPNFS_TEST_DEBUG=1) to run the
// daemon with --log_level=debug.
//
// Restart tests use WithStateFile<MountedTest> (or another fixture in place of MountedTest), whose
// daemon keeps its state in StateFile(), then KillDaemon() and RestartDaemon().
#ifndef IPNFS_TESTS_MOUNTED_TEST_H_
#define IPNFS_TESTS_MOUNTED_TEST_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "tests/mounted_daemon.h"
#include "tests/run_as.h"
#include "tests/subprocess.h"
#include "tests/temp_dir.h"

namespace ipnfs::tests {

class MountedTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The daemon's options; override to add flags, a state file or a launcher.
  virtual DaemonOptions Options() const { return DaemonOptions{}; }

  MountedDaemon& daemon() { return *daemon_; }
  // `name` under the mount point.
  std::string PathOf(absl::string_view name) const { return daemon_->PathOf(name); }
  // `/bin/sh -c command` as `as` in the mount point.
  CommandResult Shell(const std::string& command, const RunAs& as = {}) const {
    return daemon_->RunShell(command, as);
  }

  // A file in a directory of the test that outlives every daemon of the test, for
  // DaemonOptions::state_file.
  std::string StateFile() const { return state_directory_.PathOf("ipnfs.state"); }
  // kill -9 the daemon, then `fusermount3 -u` its dead mount, as a user would. Failures are
  // fatal: call it in ASSERT_NO_FATAL_FAILURE().
  void KillDaemon();
  // Starts the daemon again on the same mount point with the same options. Failures are fatal.
  void RestartDaemon();

  std::unique_ptr<MountedDaemon> daemon_;

 private:
  TempDir state_directory_;
  std::string killed_stderr_;  // What the daemons killed by KillDaemon() wrote.
};

// `Fixture` (MountedTest or a fixture derived from it) whose daemon has StateFile() as its
// state file.
template <typename Fixture>
class WithStateFile : public Fixture {
 protected:
  DaemonOptions Options() const override {
    DaemonOptions options = Fixture::Options();
    options.state_file = this->StateFile();
    return options;
  }
};

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_MOUNTED_TEST_H_
