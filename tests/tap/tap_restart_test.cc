// Taps are part of the persisted state: after the daemon is killed (SIGKILL), its dead mount
// unmounted and the daemon started again on the same --state file, the taps are back (in the
// daemon's namespace, also those that had been moved away) and carry traffic again.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mounted_daemon.h"
#include "tests/subprocess.h"
#include "tests/tap/ipn_attributes.h"
#include "tests/tap/network_namespace.h"
#include "tests/tap/tap_test.h"
#include "tests/temp_dir.h"
#include "tests/wait_until.h"

namespace ipnfs::tests {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using TapRestartTest = WithStateFile<TapTest>;

TEST_F(TapRestartTest, TapsComeBackAfterKillAndRestartAndPingAgain) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1"), Succeeds());
  const NetworkNamespace* a = NewNamespace();
  const NetworkNamespace* b = NewNamespace();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_EQ(a->Adopt("ipn0", "10.79.7.1/24"), absl::OkStatus());
  ASSERT_EQ(b->Adopt("ipn1", "10.79.7.2/24"), absl::OkStatus());
  ASSERT_TRUE(a->Pings("10.79.7.2"));

  ASSERT_NO_FATAL_FAILURE(KillDaemon());
  // The kernel deletes the dead daemon's taps when it releases their files, which may be a
  // little after the daemon was reaped: wait for that, so that this test is about what the new
  // daemon restores (TapsComeBackWhenRestartedRightAfterTheKill is about restarting at once).
  ASSERT_TRUE(WaitUntil([&] { return !a->HasInterface("ipn0") && !b->HasInterface("ipn1"); },
                        absl::Seconds(5)))
      << "the killed daemon's taps are still there 5 s later";
  ASSERT_NO_FATAL_FAILURE(RestartDaemon());

  const std::string restored = PathOf("net0");
  EXPECT_EQ(AttachedInterfaces(restored), "ipn0,ipn1");
  EXPECT_THAT(PortOwners(restored), ElementsAre("tap:ipn0", "tap:ipn1"));
  // They come back in the daemon's namespace: move them where they were.
  ASSERT_EQ(a->Adopt("ipn0", "10.79.7.1/24"), absl::OkStatus());
  ASSERT_EQ(b->Adopt("ipn1", "10.79.7.2/24"), absl::OkStatus());
  EXPECT_TRUE(a->Pings("10.79.7.2"));
  EXPECT_TRUE(b->Pings("10.79.7.1"));
}

TEST_F(TapRestartTest, TapsComeBackWhenRestartedRightAfterTheKill) {
  // What a supervisor or a script does: kill -9, fusermount3 -u, start again at once. Ten
  // times, as whether the old taps are gone yet at that moment is up to the kernel.
  ASSERT_THAT(SetAttribute(NewNetwork("net0"), "user.ipn.tap", "ipn0,ipn1"), Succeeds());
  for (int round = 1; round <= 10; ++round) {
    SCOPED_TRACE(absl::StrCat("restart ", round));
    ASSERT_NO_FATAL_FAILURE(KillDaemon());
    ASSERT_NO_FATAL_FAILURE(RestartDaemon());
    const std::string net = PathOf("net0");
    EXPECT_TRUE(WaitUntil([&] { return AttachedInterfaces(net) == "ipn0,ipn1"; }, absl::Seconds(2)))
        << "user.ipn.tap is \"" << AttachedInterfaces(net) << "\" 2 s after the restart; stderr:\n"
        << daemon().StderrText();
    EXPECT_TRUE(NetworkNamespace::Here().HasInterface("ipn0"));
    EXPECT_TRUE(NetworkNamespace::Here().HasInterface("ipn1"));
  }
}

TEST_F(TapRestartTest, TapDeletedBehindTheDaemonsBackDoesNotComeBackAfterARestart) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1"), Succeeds());
  auto saved_taps = [&] { return ReadFileText(StateFile()); };
  ASSERT_THAT(saved_taps(), HasSubstr("ipn0,ipn1"));
  ASSERT_THAT(NetworkNamespace::Here().Shell("ip link del ipn1"), Succeeds());
  // Nothing else changes the namespace: the deletion alone must reach the state file.
  EXPECT_TRUE(
      WaitUntil([&] { return saved_taps().find("ipn1") == std::string::npos; }, absl::Seconds(2)))
      << "the state file still lists the deleted tap:\n"
      << saved_taps();
  EXPECT_EQ(AttachedInterfaces(net), "ipn0");

  ASSERT_NO_FATAL_FAILURE(KillDaemon());
  ASSERT_TRUE(
      WaitUntil([] { return !NetworkNamespace::Here().HasInterface("ipn0"); }, absl::Seconds(5)));
  ASSERT_NO_FATAL_FAILURE(RestartDaemon());
  EXPECT_EQ(AttachedInterfaces(PathOf("net0")), "ipn0");
  EXPECT_FALSE(NetworkNamespace::Here().HasInterface("ipn1"));
}

}  // namespace
}  // namespace ipnfs::tests
