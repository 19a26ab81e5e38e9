// Integration tests of access control: r = may receive, w = may send, x = may manage. The user
// nobody (through setpriv) meets a network as its owner, through its group, or as anybody else,
// for every combination of the three bits, and opens it with each access mode and changes its
// attributes; root bypasses the bits; chmod applies to the next open at once.
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/features/feature_support.h"
#include "tests/mounted_test.h"
#include "tests/run_as.h"

namespace ipnfs::tests {
namespace {

using ::testing::HasSubstr;

// One line per probe: "read ok", "write EACCES", ... (or the error text when it is neither).
// Each open joins and leaves at once; the attribute changes are a set and a removal.
constexpr char kProbes[] = R"sh(
report() {
  if [ "$2" -eq 0 ]; then echo "$1 ok"
  else case "$3" in *"Permission denied"*) echo "$1 EACCES" ;; *) echo "$1 error: $3" ;; esac
  fi
}
err=$( (exec 3<net) 2>&1 ); report read $? "$err"
err=$( (exec 3>>net) 2>&1 ); report write $? "$err"
err=$( (exec 3<>net) 2>&1 ); report read-write $? "$err"
err=$(setfattr -n user.ipn.qlen -v 7 net 2>&1); report set $? "$err"
err=$(setfattr -x user.ipn.mtu net 2>&1); report remove $? "$err"
)sh";

enum class UserClass { kOwner, kGroup, kOther };

// The mode that gives nobody `bits` in `user_class` and the complement in the other classes, so
// that the daemon passes only if it picks the right class.
mode_t ModeFor(UserClass user_class, int bits) {
  const int others = 7 - bits;
  switch (user_class) {
    case UserClass::kOwner:
      return bits << 6 | others << 3 | others;
    case UserClass::kGroup:
      return others << 6 | bits << 3 | others;
    case UserClass::kOther:
      return others << 6 | others << 3 | bits;
  }
  return 0;
}

// Who owns the network so that nobody falls in `user_class`.
std::string OwnerFor(UserClass user_class) {
  switch (user_class) {
    case UserClass::kOwner:
      return "nobody:root";
    case UserClass::kGroup:
      return "root:nogroup";
    case UserClass::kOther:
      return "root:root";
  }
  return "";
}

std::string Outcome(bool allowed) { return allowed ? "ok" : "EACCES"; }

using MatrixParam = std::tuple<UserClass, int>;

std::string MatrixName(const ::testing::TestParamInfo<MatrixParam>& info) {
  const auto [user_class, bits] = info.param;
  const char* names[] = {"Owner", "Group", "Other"};
  return absl::StrCat(names[static_cast<int>(user_class)], "_", (bits & 4) ? "r" : "_",
                      (bits & 2) ? "w" : "_", (bits & 1) ? "x" : "_");
}

class PermissionMatrixTest : public MountedTest,
                             public ::testing::WithParamInterface<MatrixParam> {};

TEST_P(PermissionMatrixTest, NobodyMayOpenAndManageExactlyAsItsClassBitsAllow) {
  const auto [user_class, bits] = GetParam();
  const mode_t mode = ModeFor(user_class, bits);
  CommandResult setup = Shell(absl::StrFormat(
      "touch net && setfattr -n user.ipn.mtu -v 1500 net && chown %s net && chmod %04o net",
      OwnerFor(user_class), mode));
  ASSERT_EQ(setup.exit_code, 0) << setup;

  CommandResult probes = Shell(kProbes, Nobody());
  const bool may_read = bits & 4, may_write = bits & 2, may_manage = bits & 1;
  EXPECT_EQ(probes.out, absl::StrCat("read ", Outcome(may_read), "\nwrite ", Outcome(may_write),
                                     "\nread-write ", Outcome(may_read && may_write), "\nset ",
                                     Outcome(may_manage), "\nremove ", Outcome(may_manage), "\n"))
      << "mode " << absl::StrFormat("%04o", mode) << "\n"
      << probes;

  // A refused change changed nothing; an allowed one took effect.
  EXPECT_EQ(GetXattr(PathOf("net"), "user.ipn.qlen").value, may_manage ? "7" : "256");
  EXPECT_EQ(GetXattr(PathOf("net"), "user.ipn.mtu").value, may_manage ? "65536" : "1500");
}

INSTANTIATE_TEST_SUITE_P(EveryClassAndBits, PermissionMatrixTest,
                         ::testing::Combine(::testing::Values(UserClass::kOwner, UserClass::kGroup,
                                                              UserClass::kOther),
                                            ::testing::Range(0, 8)),
                         MatrixName);

class PermissionsTest : public MountedTest {
 protected:
  void AsRoot(const std::string& script) {
    CommandResult result = Shell(script);
    ASSERT_EQ(result.exit_code, 0) << result;
  }
};

TEST_F(PermissionsTest, RootOpensAndManagesANetworkWithoutAnyBits) {
  AsRoot("touch net && chown nobody:nogroup net && chmod 000 net");
  CommandResult result = Shell(std::string(kProbes));
  EXPECT_EQ(result.out, "read ok\nwrite ok\nread-write ok\nset ok\nremove ok\n") << result;
  EXPECT_EQ(GetXattr(PathOf("net"), "user.ipn.qlen").value, "7");
}

TEST_F(PermissionsTest, ChmodAppliesToTheNextOpenAtOnce) {
  AsRoot("touch net && chmod 604 net");
  CommandResult result = Shell(absl::StrCat(
      "probe() { ", Nobody().ShellLine("exec 3<net && echo joined"),
      " 2>/dev/null || echo refused; }\n", "probe; chmod 600 net; probe; chmod 604 net; probe"));
  EXPECT_EQ(result.out, "joined\nrefused\njoined\n") << result;
}

TEST_F(PermissionsTest, ChmodThatTakesXAwayStopsManagementAtOnce) {
  AsRoot("touch net && chmod 601 net");
  CommandResult result =
      Shell(absl::StrCat(Nobody().ShellLine("setfattr -n user.ipn.qlen -v 5 net && echo managed"),
                         " || echo refused\n", "chmod 600 net\n",
                         Nobody().ShellLine("setfattr -n user.ipn.qlen -v 6 net && echo managed"),
                         " || echo refused"));
  EXPECT_EQ(result.out, "managed\nrefused\n") << result;
  EXPECT_EQ(GetXattr(PathOf("net"), "user.ipn.qlen").value, "5");
}

TEST_F(PermissionsTest, ReadingAttributesNeedsNoPermission) {
  AsRoot("touch net && setfattr -n user.ipn.qlen -v 9 net && chmod 000 net");
  CommandResult result = Shell(
      "getfattr --only-values -n user.ipn.qlen net && echo && "
      "getfattr -d -m - net | grep -c '^user.ipn.'",
      Nobody());
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "9\n11\n") << result;
}

TEST_F(PermissionsTest, SupplementaryGroupsCountForTheGroupClass) {
  AsRoot("touch net && chown root:users net && chmod 060 net");
  const std::string probe = "exec 3<>net && echo joined";
  CommandResult with_group =
      Shell(probe, RunAs{.user = "nobody", .group = "nogroup", .groups = "100"});
  CommandResult without = Shell(probe, Nobody());
  EXPECT_EQ(with_group.out, "joined\n") << with_group;
  EXPECT_THAT(without.err, HasSubstr("Permission denied")) << without;
}

TEST_F(PermissionsTest, DirectoryDefaultsCanBeChangedWithOnlyXOnTheDirectory) {
  AsRoot("mkdir lab && chmod 771 lab");
  CommandResult result = Shell("setfattr -n user.ipn.qlen -v 64 lab", Nobody());
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(GetXattr(PathOf("lab"), "user.ipn.qlen").value, "64");
}

TEST_F(PermissionsTest, DirectoryDefaultsCannotBeChangedWithoutXOnTheDirectory) {
  AsRoot("mkdir lab && setfattr -n user.ipn.qlen -v 64 lab && chmod 776 lab");
  CommandResult set = Shell("setfattr -n user.ipn.qlen -v 32 lab", Nobody());
  CommandResult remove = Shell("setfattr -x user.ipn.qlen lab", Nobody());
  EXPECT_THAT(set.err, HasSubstr("Permission denied")) << set;
  EXPECT_THAT(remove.err, HasSubstr("Permission denied")) << remove;
  EXPECT_EQ(GetXattr(PathOf("lab"), "user.ipn.qlen").value, "64");
}

}  // namespace
}  // namespace ipnfs::tests
