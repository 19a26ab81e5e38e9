// What setfattr user.ipn.tap / user.ipn.grab refuses, with which errno, and that a refused change
// changes nothing: invalid names (EINVAL), names of other interfaces (EEXIST), grabbing loopback
// or a missing interface (EINVAL), a user without x (EACCES), a daemon without CAP_NET_ADMIN
// (EPERM, and a log line saying so).
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mounted_daemon.h"
#include "tests/run_as.h"
#include "tests/subprocess.h"
#include "tests/tap/ipn_attributes.h"
#include "tests/tap/network_namespace.h"
#include "tests/tap/tap_test.h"

namespace ipnfs::tests {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using TapErrorsTest = TapTest;

const NetworkNamespace& Here() { return NetworkNamespace::Here(); }

TEST_F(TapErrorsTest, InvalidInterfaceNamesAreEinvalAndChangeNothing) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0"), Succeeds());
  // Over 15 bytes, '/', white space inside a name; a valid name first (in any order the daemon
  // may try them) must not be left behind.
  for (const std::string value : {"sixteen-bytes-xx", "a/b", "a b", "tab\tx", "new\nline",
                                  "ipn1,x/y", "ipn1,ipn-sixteen-byte"}) {
    EXPECT_THAT(SetAttribute(net, "user.ipn.tap", value), FailsWithErrno(EINVAL)) << value;
    EXPECT_THAT(SetAttribute(net, "user.ipn.grab", value), FailsWithErrno(EINVAL)) << value;
  }
  EXPECT_EQ(AttachedInterfaces(net, "tap"), "ipn0");
  EXPECT_EQ(AttachedInterfaces(net, "grab"), "");
  EXPECT_THAT(PortOwners(net), ElementsAre("tap:ipn0"));
  EXPECT_TRUE(Here().HasInterface("ipn0"));
  EXPECT_FALSE(Here().HasInterface("ipn1"));
}

TEST_F(TapErrorsTest, EmptyListMeansNoInterfaces) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1"), Succeeds());
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", ""), Succeeds());
  EXPECT_EQ(AttachedInterfaces(net), "");
  EXPECT_THAT(PortOwners(net), IsEmpty());
  EXPECT_FALSE(Here().HasInterface("ipn0"));
  EXPECT_FALSE(Here().HasInterface("ipn1"));
  // And setfattr -x removes them all, too.
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1"), Succeeds());
  EXPECT_THAT(RemoveAttribute(net, "user.ipn.tap"), Succeeds());
  EXPECT_EQ(AttachedInterfaces(net), "");
  EXPECT_FALSE(Here().HasInterface("ipn0"));
}

TEST_F(TapErrorsTest, NameOfAnInterfaceThatIsNotThisNetworksTapIsEexistAndChangesNothing) {
  const std::string net = NewNetwork("net0");
  const std::string other = NewNetwork("net1");
  ASSERT_THAT(Here().Shell("ip link add ipnv0 type veth peer name ipnv1"), Succeeds());
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0"), Succeeds());
  ASSERT_THAT(SetAttribute(other, "user.ipn.tap", "ipn5"), Succeeds());

  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipnv1"), FailsWithErrno(EEXIST));
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipnv0"), FailsWithErrno(EEXIST));
  // ipn1 would be created first: it must be gone again.
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipn1,ipnv1"), FailsWithErrno(EEXIST));
  // Another network's tap.
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn5"), FailsWithErrno(EEXIST));
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipn5"), FailsWithErrno(EEXIST));

  EXPECT_EQ(AttachedInterfaces(net), "ipn0");
  EXPECT_EQ(AttachedInterfaces(other), "ipn5");
  EXPECT_THAT(PortOwners(net), ElementsAre("tap:ipn0"));
  EXPECT_THAT(PortOwners(other), ElementsAre("tap:ipn5"));
  EXPECT_FALSE(Here().HasInterface("ipn1"));
  EXPECT_TRUE(Here().HasInterface("ipnv0"));
  EXPECT_TRUE(Here().HasInterface("ipnv1"));
}

TEST_F(TapErrorsTest, GrabOfLoopbackOrOfAMissingInterfaceIsEinvalAndChangesNothing) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(Here().Shell("ip link add ipnv0 type veth peer name ipnv1"), Succeeds());
  ASSERT_THAT(SetAttribute(net, "user.ipn.grab", "ipnv0"), Succeeds());

  EXPECT_THAT(SetAttribute(net, "user.ipn.grab", "lo"), FailsWithErrno(EINVAL));
  EXPECT_THAT(SetAttribute(net, "user.ipn.grab", "ipnv0,lo"), FailsWithErrno(EINVAL));
  EXPECT_THAT(SetAttribute(net, "user.ipn.grab", "ipn-nothere"), FailsWithErrno(EINVAL));
  EXPECT_THAT(SetAttribute(net, "user.ipn.grab", "ipnv0,ipn-nothere"), FailsWithErrno(EINVAL));

  EXPECT_EQ(AttachedInterfaces(net, "grab"), "ipnv0");
  EXPECT_THAT(PortOwners(net), ElementsAre("grab:ipnv0"));
  EXPECT_TRUE(Here().HasInterface("ipnv0"));
}

TEST_F(TapErrorsTest, UserWithoutXOnTheNetworkGetsEaccesAndChangesNothing) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0"), Succeeds());
  ASSERT_EQ(::chmod(net.c_str(), 0666), 0);
  const RunAs nobody = Nobody();

  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1", nobody), FailsWithErrno(EACCES));
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "", nobody), FailsWithErrno(EACCES));
  EXPECT_THAT(RemoveAttribute(net, "user.ipn.tap", nobody), FailsWithErrno(EACCES));
  EXPECT_THAT(SetAttribute(net, "user.ipn.grab", "lo", nobody), FailsWithErrno(EACCES));
  EXPECT_EQ(AttachedInterfaces(net), "ipn0");
  EXPECT_THAT(PortOwners(net), ElementsAre("tap:ipn0"));
  EXPECT_FALSE(Here().HasInterface("ipn1"));

  // x is all it takes: the same user manages the taps of a --x network.
  ASSERT_EQ(::chmod(net.c_str(), 0661), 0);
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1", nobody), Succeeds());
  EXPECT_EQ(AttachedInterfaces(net), "ipn0,ipn1");
}

// The daemon started through `setpriv --inh-caps=-net_admin --bounding-set=-net_admin`.
class TapWithoutNetAdminTest : public TapTest {
 protected:
  DaemonOptions Options() const override {
    DaemonOptions options;
    options.launcher = WithoutNetAdmin();
    return options;
  }
};

// The capability set `name` ("CapEff", "CapPrm", "CapBnd") of process `pid`, from /proc.
std::optional<uint64_t> CapabilitySet(pid_t pid, absl::string_view name) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    std::vector<std::string> fields =
        absl::StrSplit(line, absl::ByAnyChar(":\t "), absl::SkipEmpty());
    uint64_t set = 0;
    if (fields.size() == 2 && fields[0] == name && absl::SimpleHexAtoi(fields[1], &set)) {
      return set;
    }
  }
  return std::nullopt;
}

TEST_F(TapWithoutNetAdminTest, DaemonWithoutNetAdminGetsEpermAndSaysSo) {
  ASSERT_THAT(Here().Shell("ip link add ipnv0 type veth peer name ipnv1"), Succeeds());

  // setpriv really took the capability from the daemon (it execs the daemon: same pid).
  char exe[PATH_MAX] = {};
  ASSERT_GT(
      ::readlink(absl::StrCat("/proc/", daemon().pid(), "/exe").c_str(), exe, sizeof(exe) - 1), 0);
  ASSERT_TRUE(absl::EndsWith(exe, "/ipnfs")) << exe;
  constexpr uint64_t kNetAdmin = uint64_t{1} << CAP_NET_ADMIN;
  for (absl::string_view set : {"CapEff", "CapPrm", "CapBnd"}) {
    const std::optional<uint64_t> caps = CapabilitySet(daemon().pid(), set);
    ASSERT_TRUE(caps.has_value()) << set;
    EXPECT_EQ(*caps & kNetAdmin, 0u) << set << " still has CAP_NET_ADMIN";
  }

  const std::string net = PathOf("net0");
  ASSERT_THAT(RunCommand({"/usr/bin/touch", net}), Succeeds());
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0"), FailsWithErrno(EPERM));
  EXPECT_THAT(SetAttribute(net, "user.ipn.grab", "ipnv0"), FailsWithErrno(EPERM));
  EXPECT_EQ(AttachedInterfaces(net, "tap"), "");
  EXPECT_EQ(AttachedInterfaces(net, "grab"), "");
  EXPECT_THAT(PortOwners(net), IsEmpty());
  EXPECT_FALSE(Here().HasInterface("ipn0"));
  EXPECT_THAT(daemon().StderrText(), HasSubstr("CAP_NET_ADMIN"));
  EXPECT_EQ(daemon().Stop(), 0) << daemon().StderrText();
}

}  // namespace
}  // namespace ipnfs::tests
