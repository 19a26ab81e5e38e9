// Integration tests of the namespace: directories, renames, listings, attributes, and unlinking a
// network while ports are joined to it.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mounted_test.h"
#include "tests/port_io.h"

namespace ipnfs::tests {
namespace {

class NamespaceTest : public MountedTest {
 protected:
  // Joins the network at `name` (creating it) with `flags`.
  Fd Join(const std::string& name, int flags) {
    Fd fd = Open(PathOf(name), flags | O_CREAT, 0666);
    EXPECT_TRUE(fd.valid()) << "open " << name << ": " << std::strerror(errno);
    return fd;
  }

  // errno of stat() on `name`, 0 if it exists.
  int StatErrno(const std::string& name) {
    struct stat st;
    return ::stat(PathOf(name).c_str(), &st) == 0 ? 0 : errno;
  }

  struct stat StatOf(const std::string& name) {
    struct stat st {};
    EXPECT_EQ(::stat(PathOf(name).c_str(), &st), 0) << name << ": " << std::strerror(errno);
    return st;
  }
};

TEST_F(NamespaceTest, MkdirCreatesADirectoryAndRmdirRemovesIt) {
  ASSERT_EQ(::mkdir(PathOf("dir").c_str(), 0755), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISDIR(StatOf("dir").st_mode));
  ASSERT_EQ(::rmdir(PathOf("dir").c_str()), 0) << std::strerror(errno);
  EXPECT_EQ(StatErrno("dir"), ENOENT);
}

TEST_F(NamespaceTest, RmdirOfANonEmptyDirectoryFailsWithEnotempty) {
  ASSERT_EQ(::mkdir(PathOf("dir").c_str(), 0755), 0);
  ASSERT_TRUE(Join("dir/net", O_RDWR).valid());
  EXPECT_EQ(::rmdir(PathOf("dir").c_str()), -1);
  EXPECT_EQ(errno, ENOTEMPTY);
  EXPECT_EQ(StatErrno("dir/net"), 0);
}

TEST_F(NamespaceTest, RenamedNetworkKeepsItsJoinedPorts) {
  Fd writer = Join("old", O_WRONLY);
  Fd reader = Join("old", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(::rename(PathOf("old").c_str(), PathOf("new").c_str()), 0) << std::strerror(errno);
  EXPECT_EQ(StatErrno("old"), ENOENT);

  ASSERT_THAT(Send(writer.get(), "after rename"), Wrote(12));
  EXPECT_THAT(Receive(reader.get()), IsPacket("after rename"));
  // The new name is the same network.
  Fd sender_by_new_name = Open(PathOf("new"), O_WRONLY);
  ASSERT_TRUE(sender_by_new_name.valid()) << std::strerror(errno);
  ASSERT_THAT(Send(sender_by_new_name.get(), "by new name"), Wrote(11));
  EXPECT_THAT(Receive(reader.get()), IsPacket("by new name"));
}

TEST_F(NamespaceTest, RenamedDirectoryKeepsThePortsJoinedInside) {
  ASSERT_EQ(::mkdir(PathOf("old").c_str(), 0755), 0);
  Fd reader = Join("old/net", O_RDONLY);
  ASSERT_TRUE(reader.valid());
  ASSERT_EQ(::rename(PathOf("old").c_str(), PathOf("new").c_str()), 0) << std::strerror(errno);
  EXPECT_EQ(StatErrno("old/net"), ENOENT);

  Fd writer = Open(PathOf("new/net"), O_WRONLY);
  ASSERT_TRUE(writer.valid()) << std::strerror(errno);
  ASSERT_THAT(Send(writer.get(), "moved"), Wrote(5));
  EXPECT_THAT(Receive(reader.get()), IsPacket("moved"));
}

TEST_F(NamespaceTest, RenameOntoAnExistingNetworkReplacesIt) {
  Fd reader_of_source = Join("source", O_RDONLY);
  Fd reader_of_target = Join("target", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(::rename(PathOf("source").c_str(), PathOf("target").c_str()), 0)
      << std::strerror(errno);
  Fd writer = Open(PathOf("target"), O_WRONLY);
  ASSERT_TRUE(writer.valid());
  ASSERT_THAT(Send(writer.get(), "hello"), Wrote(5));
  EXPECT_THAT(Receive(reader_of_source.get()), IsPacket("hello"));
  EXPECT_THAT(ReadNow(reader_of_target.get()), FailsWith(EAGAIN));
}

TEST_F(NamespaceTest, LsListsEveryEntryOfADirectory) {
  CommandResult result =
      Shell("mkdir dir && cd dir && touch b a && mkdir c && ln -s a d && ls -1a");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, ".\n..\na\nb\nc\nd\n") << result;
}

TEST_F(NamespaceTest, LsListsWhatWasCreatedInTheRoot) {
  CommandResult result = Shell("touch top && mkdir dir && touch dir/inner && ls -1");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "dir\ntop\n") << result;
}

TEST_F(NamespaceTest, NetworkWithQueuedPacketsStatsAsAnEmptyRegularFile) {
  Fd writer = Join("net", O_WRONLY);
  Fd reader = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  ASSERT_THAT(Send(writer.get(), "queued"), Wrote(6));
  const struct stat st = StatOf("net");
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 0);
  EXPECT_EQ(st.st_nlink, 1u);
  struct stat by_fd {};
  ASSERT_EQ(::fstat(reader.get(), &by_fd), 0);
  EXPECT_EQ(by_fd.st_size, 0);
  EXPECT_EQ(by_fd.st_ino, st.st_ino);
}

TEST_F(NamespaceTest, SendingAPacketMovesMtimeForward) {
  Fd writer = Join("net", O_WRONLY);
  ASSERT_TRUE(writer.valid());
  const struct timespec before = StatOf("net").st_mtim;
  absl::SleepFor(absl::Milliseconds(20));
  ASSERT_THAT(Send(writer.get(), "tick"), Wrote(4));
  const struct timespec after = StatOf("net").st_mtim;
  EXPECT_GT(absl::TimeFromTimespec(after), absl::TimeFromTimespec(before));
}

TEST_F(NamespaceTest, ChmodChangesTheMode) {
  ASSERT_TRUE(Join("net", O_RDWR).valid());
  ASSERT_EQ(::chmod(PathOf("net").c_str(), 0604), 0) << std::strerror(errno);
  const struct stat st = StatOf("net");
  EXPECT_EQ(st.st_mode & 07777, 0604u);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(NamespaceTest, ChownByRootChangesOwnerAndGroup) {
  ASSERT_TRUE(Join("net", O_RDWR).valid());
  ASSERT_EQ(::chown(PathOf("net").c_str(), 65534, 65534), 0) << std::strerror(errno);
  const struct stat st = StatOf("net");
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 65534u);
}

TEST_F(NamespaceTest, TouchWithADateSetsAccessAndModificationTimes) {
  CommandResult result =
      Shell("touch net && touch -d '2001-02-03 04:05:06 UTC' net && stat -c '%X %Y' net");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "981173106 981173106\n") << result;
}

TEST_F(NamespaceTest, TruncateToZeroSucceedsAndToAnyOtherSizeFailsWithEinval) {
  ASSERT_TRUE(Join("net", O_RDWR).valid());
  EXPECT_EQ(::truncate(PathOf("net").c_str(), 0), 0) << std::strerror(errno);
  EXPECT_EQ(::truncate(PathOf("net").c_str(), 10), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(StatOf("net").st_size, 0);
}

TEST_F(NamespaceTest, UnlinkedNetworkKeepsWorkingForJoinedPorts) {
  Fd writer = Join("net", O_WRONLY);
  Fd reader = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(Shell("rm net").exit_code, 0);
  EXPECT_EQ(StatErrno("net"), ENOENT);
  ASSERT_THAT(Send(writer.get(), "still here"), Wrote(10));
  EXPECT_THAT(Receive(reader.get()), IsPacket("still here"));
}

TEST_F(NamespaceTest, NewNetworkWithTheNameOfAnUnlinkedOneIsADifferentNetwork) {
  Fd old_reader = Join("net", O_RDONLY);
  ASSERT_TRUE(old_reader.valid());
  ASSERT_EQ(::unlink(PathOf("net").c_str()), 0) << std::strerror(errno);
  Fd new_writer = Join("net", O_WRONLY);
  Fd new_reader = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  ASSERT_THAT(Send(new_writer.get(), "new"), Wrote(3));
  EXPECT_THAT(Receive(new_reader.get()), IsPacket("new"));
  EXPECT_THAT(ReadNow(old_reader.get()), FailsWith(EAGAIN));
}

}  // namespace
}  // namespace ipnfs::tests
