// Integration tests with ordinary shell tools: networks are created by whatever creates a regular
// file, used with redirections, cat and dd; what cannot be a network is refused.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mounted_test.h"
#include "tests/port_io.h"

namespace ipnfs::tests {
namespace {

using ::testing::HasSubstr;

// Prints "NAME: TYPE SIZE" and then whether a packet sent to NAME reaches a port opened on NAME
// before the send ("NAME: carries packets"). dd reads exactly one packet.
constexpr char kDescribe[] = R"sh(
describe() {
  echo "$1: $(stat -c '%F %s' "$1")"
  exec 3<"$1"
  echo "ping $1" >>"$1"
  [ "$(timeout 5 dd bs=65536 count=1 status=none <&3)" = "ping $1" ] && echo "$1: carries packets"
  exec 3<&-
}
)sh";

class ShellTest : public MountedTest {
 protected:
  // Runs `script` after the describe() function is defined.
  CommandResult ShellWithDescribe(const std::string& script) {
    return Shell(std::string(kDescribe) + script);
  }
};

TEST_F(ShellTest, EchoIntoANewNameCreatesANetwork) {
  CommandResult result = ShellWithDescribe("echo hi > net && describe net");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "net: regular empty file 0\nnet: carries packets\n") << result;
}

TEST_F(ShellTest, CatStartedEarlierPrintsWhatEchoSends) {
  CommandResult result = Shell(R"sh(
touch net
out=$(mktemp)
cat net >"$out" &
reader=$!
# Wait until cat sleeps in read(2) (syscall 0) of the network, its fd 3.
until [ "$(cut -d' ' -f1,2 /proc/$reader/syscall 2>/dev/null)" = "0 0x3" ]; do sleep 0.01; done
echo hi > net
until [ -s "$out" ]; do sleep 0.01; done
sleep 0.1
kill $reader
cat "$out"
rm -f "$out"
)sh");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "hi\n") << result;
}

TEST_F(ShellTest, TouchCreatesANetwork) {
  CommandResult result = ShellWithDescribe("touch net && describe net");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "net: regular empty file 0\nnet: carries packets\n") << result;
}

TEST_F(ShellTest, EmptyRedirectionCreatesANetwork) {
  CommandResult result = ShellWithDescribe(": > net && describe net");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "net: regular empty file 0\nnet: carries packets\n") << result;
}

TEST_F(ShellTest, MknodOfARegularFileCreatesANetwork) {
  CommandResult result = ShellWithDescribe(R"sh(
/usr/bin/python3 -c 'import os, stat; os.mknod("net", stat.S_IFREG | 0o644)' && describe net
)sh");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "net: regular empty file 0\nnet: carries packets\n") << result;
}

TEST_F(ShellTest, MknodOfAFifoFailsWithEperm) {
  CommandResult result = Shell(R"sh(
/usr/bin/python3 -c '
import errno, os, stat
try:
    os.mknod("fifo", stat.S_IFIFO | 0o644)
    print("created")
except OSError as e:
    print(errno.errorcode[e.errno])'
test -e fifo && echo "fifo exists"
)sh");
  EXPECT_EQ(result.out, "EPERM\n") << result;
}

TEST_F(ShellTest, HardLinkFailsWithEperm) {
  CommandResult result = Shell("touch net && ln net other");
  EXPECT_NE(result.exit_code, 0) << result;
  EXPECT_THAT(result.err, HasSubstr("Operation not permitted")) << result;
  EXPECT_EQ(Shell("ls").out, "net\n");
}

TEST_F(ShellTest, OpeningThroughASymlinkJoinsTheSameNetwork) {
  CommandResult result = Shell(R"sh(
touch net && ln -s net link || exit 1
echo "link -> $(readlink link)"
exec 3<link
echo "to net" > net
timeout 5 dd bs=65536 count=1 status=none <&3
exec 3<&- 4<net
echo "to link" > link
timeout 5 dd bs=65536 count=1 status=none <&4
)sh");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "link -> net\nto net\nto link\n") << result;
}

TEST_F(ShellTest, ExclusiveCreateOfAnExistingNameFailsWithEexist) {
  Fd first = Open(PathOf("net"), O_RDWR | O_CREAT | O_EXCL, 0644);
  ASSERT_TRUE(first.valid()) << std::strerror(errno);
  Fd second = Open(PathOf("net"), O_RDWR | O_CREAT | O_EXCL, 0644);
  EXPECT_FALSE(second.valid());
  EXPECT_EQ(errno, EEXIST);
}

TEST_F(ShellTest, NoclobberRedirectionToAnExistingNetworkFails) {
  CommandResult result = Shell("touch net && set -C && echo hi > net");
  EXPECT_NE(result.exit_code, 0) << result;
  EXPECT_THAT(result.err, HasSubstr("exists")) << result;
}

TEST_F(ShellTest, CreatedModeIsTheRequestedModeMinusTheUmask) {
  CommandResult result = Shell(R"sh(
umask 027
touch touched
: > redirected
mkdir dir
/usr/bin/python3 -c 'import os; os.close(os.open("opened", os.O_CREAT | os.O_WRONLY, 0o664))'
stat -c '%n %a' touched redirected dir opened
)sh");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "touched 640\nredirected 640\ndir 750\nopened 640\n") << result;
}

TEST_F(ShellTest, CreatorOwnsTheNetworkItCreates) {
  CommandResult result = Shell(R"sh(
touch by_root
setpriv --reuid=nobody --regid=nogroup --clear-groups touch by_nobody
stat -c '%n %U %G' by_root by_nobody
)sh");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "by_root root root\nby_nobody nobody nogroup\n") << result;
}

TEST_F(ShellTest, CreatorOwnsTheDirectoryItCreates) {
  CommandResult result = Shell(R"sh(
setpriv --reuid=nobody --regid=nogroup --clear-groups mkdir dir
stat -c '%n %U %G %F' dir
)sh");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "dir nobody nogroup directory\n") << result;
}

}  // namespace
}  // namespace ipnfs::tests
