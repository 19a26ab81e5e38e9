// Integration tests of persistence (--state=FILE): the whole namespace comes back when the daemon
// is started again after `kill -9`; a state file that cannot be parsed is refused with one clear
// line and left untouched; the file on disk is complete after every change.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/features/feature_support.h"
#include "tests/mounted_daemon.h"
#include "tests/mounted_test.h"
#include "tests/subprocess.h"
#include "tests/temp_dir.h"

namespace ipnfs::tests {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kStateHeader[] = "ipnfs-state 1\n";

// What a user sees of the namespace: listing with owners, modes and full times, every node's
// stat, symlink target and settings (not stats and ports: packets and ports are not state).
constexpr char kDescribe[] = R"sh(
set -e
ls -lR --full-time .
stat -c '%n %F %a %U %G atime=%x mtime=%y ctime=%z' lab lab/sub lab/net0 lab/renamed net1 link
readlink link
getfattr -d -m - lab lab/sub lab/net0 net1 | grep -v -e '^user.ipn.stats=' -e '^user.ipn.ports='
)sh";

// Directories, networks with modes, owners and settings, a directory default, a symlink and an
// explicit modification time.
constexpr char kPopulate[] = R"sh(
set -e
mkdir -p lab/sub
chmod 750 lab
chown nobody:nogroup lab/sub
setfattr -n user.ipn.qlen -v 64 lab
setfattr -n user.ipn.policy -v anycast lab/sub
touch lab/net0
chmod 640 lab/net0
chown nobody:users lab/net0
setfattr -n user.ipn.policy -v switch lab/net0
setfattr -n user.ipn.mtu -v 1500 lab/net0
setfattr -n user.ipn.flow -v block lab/net0
setfattr -n user.ipn.stall_ms -v 250 lab/net0
setfattr -n user.ipn.maxports -v 5 lab/net0
setfattr -n user.ipn.ageing -v 60 lab/net0
setfattr -n user.ipn.macs -v 16 lab/net0
setfattr -n user.ipn.linktype -v user0 lab/net0
touch -d '2001-02-03 04:05:06.789012345' lab/net0
touch net1
chmod 604 net1
ln -s lab/net0 link
chmod 3775 lab/sub
touch -d '1999-12-31 23:59:58' lab/sub
touch old && mv old lab/renamed
touch gone && rm gone
)sh";

using PersistenceTest = WithStateFile<MountedTest>;

TEST_F(PersistenceTest, EverythingComesBackAfterKill9AndARestart) {
  CommandResult populated = Shell(kPopulate);
  ASSERT_EQ(populated.exit_code, 0) << populated;
  CommandResult before = Shell(kDescribe);
  ASSERT_EQ(before.exit_code, 0) << before;

  ASSERT_NO_FATAL_FAILURE(KillDaemon());
  ASSERT_NO_FATAL_FAILURE(RestartDaemon());
  CommandResult after = Shell(kDescribe);
  EXPECT_EQ(after.exit_code, 0) << after;
  EXPECT_EQ(after.out, before.out);
  // The restored values are the ones set, not only equal to what was seen before.
  EXPECT_THAT(before.out, HasSubstr("lab/net0 regular empty file 640 nobody users "));
  EXPECT_THAT(before.out, HasSubstr("mtime=2001-02-03 04:05:06.789012345 +0000"));
  EXPECT_THAT(before.out, HasSubstr("user.ipn.linktype=\"user0\""));
  EXPECT_THAT(before.out, HasSubstr("\nlab/net0\n"));
  EXPECT_THAT(before.out, HasSubstr("lab/sub directory 3775 nobody nogroup "));
  EXPECT_THAT(before.out, HasSubstr("lab/renamed regular empty file"));
  EXPECT_THAT(before.out, ::testing::Not(HasSubstr("gone")));
  EXPECT_EQ(daemon().Stop(SIGTERM), 0) << daemon().StderrText();
}

TEST_F(PersistenceTest, CorruptStateFileIsRefusedWithOneLineAndLeftUntouched) {
  ASSERT_EQ(Shell("touch net && mkdir lab").exit_code, 0);
  ASSERT_EQ(daemon().Stop(SIGTERM), 0) << daemon().StderrText();
  {
    std::ofstream append(StateFile(), std::ios::app | std::ios::binary);
    append << "garbage\n";
  }
  const std::string corrupt = ReadFileText(StateFile());
  ASSERT_THAT(corrupt, StartsWith(kStateHeader));

  CommandResult started = RunDaemonToExit({daemon().path()}, Options());
  EXPECT_EQ(started.exit_code, 1) << started;
  std::vector<std::string> lines = absl::StrSplit(started.err, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u) << started;
  EXPECT_THAT(lines[0], StartsWith("ipnfs: "));
  EXPECT_THAT(lines[0], HasSubstr(StateFile()));
  EXPECT_FALSE(IsMounted(daemon().path()));
  EXPECT_EQ(ReadFileText(StateFile()), corrupt) << "the refused state file was changed";
}

TEST_F(PersistenceTest, StateFileIsCompleteAfterEveryChange) {
  const std::string net = PathOf("net");
  ASSERT_EQ(::mknod(net.c_str(), S_IFREG | 0644, 0), 0);

  // Meanwhile another thread keeps reading the file, as a backup tool would.
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::string torn;
  std::thread watcher([&] {
    while (!done) {
      const std::string text = ReadFileText(StateFile());
      if (!absl::StartsWith(text, kStateHeader) || !absl::EndsWith(text, "\n")) {
        torn = text;
        return;
      }
      ++reads;
    }
  });
  for (int i = 1; i <= 50; ++i) {
    ASSERT_EQ(SetXattr(net, "user.ipn.qlen", std::to_string(i)), 0);
    const std::string text = ReadFileText(StateFile());
    ASSERT_THAT(text, StartsWith(kStateHeader)) << "after change " << i;
    ASSERT_TRUE(absl::EndsWith(text, "\n")) << "after change " << i << ":\n" << text;
    ASSERT_THAT(text, ContainsRegex(absl::StrCat(" qlen=", i, "[ \n]"))) << "after change " << i;
  }
  done = true;
  watcher.join();
  EXPECT_EQ(torn, "") << "a reader saw a half-written state file";
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(daemon().Stop(SIGTERM), 0) << daemon().StderrText();
}

}  // namespace
}  // namespace ipnfs::tests
