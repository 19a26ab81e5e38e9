// Integration tests of permissions: root mounts (other users are let in by default) and the user
// nobody, through setpriv, meets the usual Unix rules: r to receive, w to send, w+x on a directory
// to create, and the sticky bit of the 1777 root.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mounted_test.h"
#include "tests/run_as.h"

namespace ipnfs::tests {
namespace {

using ::testing::HasSubstr;

class PermissionsTest : public MountedTest {
 protected:
  // Runs `script` with /bin/sh as nobody:nogroup without supplementary groups, in the mount.
  CommandResult AsNobody(const std::string& script) { return Shell(script, Nobody()); }

  // Runs `script` as root; fails the test unless it succeeds.
  void AsRoot(const std::string& script) {
    CommandResult result = Shell(script);
    ASSERT_EQ(result.exit_code, 0) << result;
  }
};

TEST_F(PermissionsTest, RootOfTheMountIsStickyAndWritableByAll) {
  CommandResult result = Shell("stat -c '%a %U' .");
  EXPECT_EQ(result.out, "1777 root\n") << result;
}

TEST_F(PermissionsTest, NobodyCanCreateANetworkInTheRoot) {
  CommandResult result = AsNobody("touch mine && stat -c '%U %F' mine");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "nobody regular empty file\n") << result;
}

TEST_F(PermissionsTest, NobodyCannotUnlinkRootsNetworkInTheStickyRoot) {
  AsRoot("touch net && chmod 666 net");
  CommandResult result = AsNobody("rm -f net");
  EXPECT_NE(result.exit_code, 0) << result;
  EXPECT_THAT(result.err, HasSubstr("Operation not permitted")) << result;
  EXPECT_EQ(Shell("ls").out, "net\n");
}

TEST_F(PermissionsTest, NobodyCannotRenameRootsNetworkInTheStickyRoot) {
  AsRoot("touch net && chmod 666 net");
  CommandResult result = AsNobody("mv net moved");
  EXPECT_NE(result.exit_code, 0) << result;
  EXPECT_THAT(result.err, HasSubstr("Operation not permitted")) << result;
  EXPECT_EQ(Shell("ls").out, "net\n");
}

TEST_F(PermissionsTest, NobodyCanUnlinkItsOwnNetworkInTheStickyRoot) {
  CommandResult result = AsNobody("touch mine && rm mine && ls");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "") << result;
}

TEST_F(PermissionsTest, NobodyCannotOpenAPrivateRootNetworkForReading) {
  AsRoot("touch net && chmod 600 net");
  CommandResult result = AsNobody(": < net");
  EXPECT_NE(result.exit_code, 0) << result;
  EXPECT_THAT(result.err, HasSubstr("Permission denied")) << result;
}

TEST_F(PermissionsTest, NobodyCanOpenAReadableRootNetworkForReadingOnly) {
  AsRoot("touch net && chmod 644 net");
  CommandResult result = AsNobody(R"sh(
: < net && echo "read: yes"
: >> net && echo "write: yes"
: <> net && echo "read-write: yes"
true)sh");
  EXPECT_EQ(result.out, "read: yes\n") << result;
  EXPECT_THAT(result.err, HasSubstr("Permission denied")) << result;
}

TEST_F(PermissionsTest, NobodyReceivesFromAReadableRootNetwork) {
  AsRoot("touch net && chmod 644 net");
  // nobody joins as fd 3 and tells root (through a FIFO outside the mount) that it has joined.
  CommandResult result = Shell(R"sh(
fifo=$(mktemp -u) && mkfifo -m 666 "$fifo" || exit 1
setpriv --reuid=nobody --regid=nogroup --clear-groups /bin/sh -c '
  exec 3<net && echo joined > "$1" && timeout 5 dd bs=65536 count=1 status=none <&3' sh "$fifo" &
timeout 5 head -n 1 "$fifo" >/dev/null
rm -f "$fifo"
echo "from root" > net
wait $!
)sh");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "from root\n") << result;
}

TEST_F(PermissionsTest, NobodyCannotCreateInARootDirectoryWithMode755) {
  AsRoot("mkdir dir && chmod 755 dir");
  CommandResult result = AsNobody("touch dir/net");
  EXPECT_NE(result.exit_code, 0) << result;
  EXPECT_THAT(result.err, HasSubstr("Permission denied")) << result;
  EXPECT_EQ(Shell("ls dir").out, "");
}

TEST_F(PermissionsTest, NobodyCannotChmodRootsNetwork) {
  AsRoot("touch net && chmod 644 net");
  CommandResult result = AsNobody("chmod 666 net");
  EXPECT_NE(result.exit_code, 0) << result;
  EXPECT_THAT(result.err, HasSubstr("Operation not permitted")) << result;
  EXPECT_EQ(Shell("stat -c %a net").out, "644\n");
}

TEST_F(PermissionsTest, NobodyCanChmodItsOwnNetwork) {
  CommandResult result = AsNobody("touch mine && chmod 600 mine && stat -c %a mine");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "600\n") << result;
}

TEST_F(PermissionsTest, NobodyCannotListADirectoryWithoutReadPermission) {
  AsRoot("mkdir dir && touch dir/net && chmod 711 dir");
  CommandResult result = AsNobody("ls dir");
  EXPECT_NE(result.exit_code, 0) << result;
  EXPECT_THAT(result.err, HasSubstr("Permission denied")) << result;
}

TEST_F(PermissionsTest, NobodyCannotReachANetworkInADirectoryWithoutSearchPermission) {
  AsRoot("mkdir dir && touch dir/net && chmod 666 dir/net && chmod 744 dir");
  CommandResult result = AsNobody(": < dir/net");
  EXPECT_NE(result.exit_code, 0) << result;
  EXPECT_THAT(result.err, HasSubstr("Permission denied")) << result;
}

}  // namespace
}  // namespace ipnfs::tests
