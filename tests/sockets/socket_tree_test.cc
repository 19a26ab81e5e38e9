// Integration tests of the socket face trees /.seqpacket and /.stream: every network has a socket
// at its own path in each, with the network's owner, group and mode, in a mirror of its
// directories; the trees are read-only and their roots reserved; a socket follows its network
// when it is renamed, closes its connections when it is removed, and exists as soon as the call
// that created the network returns.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mounted_daemon.h"
#include "tests/mounted_test.h"
#include "tests/port_io.h"
#include "tests/sockets/socket_client.h"
#include "tests/sockets/socket_join.h"
#include "tests/subprocess.h"
#include "tests/temp_dir.h"
#include "tests/wait_until.h"

namespace ipnfs::tests {
namespace {

using ::testing::AnyOf;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// errno of a call that returned `result` (0 when it succeeded).
int ErrnoOf(int result) { return result == 0 ? 0 : errno; }

// What a change in a face tree must fail with.
::testing::Matcher<int> IsRefusedChange() { return AnyOf(Eq(EROFS), Eq(EPERM)); }

// stat(2) of `path`: errno, or 0 and the result in *st.
int StatOf(const std::string& path, struct stat* st) { return ErrnoOf(::stat(path.c_str(), st)); }

class SocketTreeTest : public MountedTest, public ::testing::WithParamInterface<SocketKind> {
 protected:
  SocketKind kind() const { return GetParam(); }
  // The face of `network` in this test's tree.
  std::string Face(absl::string_view network) const {
    return FacePath(daemon_->path(), kind(), network);
  }
  std::string Tree() const { return TreeOf(kind()); }

  void MustRun(const std::string& script) {
    const CommandResult result = Shell(script);
    ASSERT_EQ(result.exit_code, 0) << result;
  }
};

TEST_P(SocketTreeTest, FaceIsASocketWithTheNetworksOwnerGroupAndMode) {
  ASSERT_NO_FATAL_FAILURE(MustRun("touch net0 && chmod 640 net0 && chown nobody:users net0"));
  struct stat st {};
  ASSERT_EQ(StatOf(Face("net0"), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISSOCK(st.st_mode)) << std::oct << st.st_mode;
  EXPECT_EQ(st.st_mode & 07777, 0640u) << std::oct << st.st_mode;
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 100u);
  const CommandResult listed = Shell(absl::StrCat("ls -l ", Tree(), "/net0"));
  EXPECT_THAT(listed.out, StartsWith("srw-r----- ")) << listed;
  EXPECT_THAT(listed.out, HasSubstr(" nobody users ")) << listed;

  ASSERT_NO_FATAL_FAILURE(MustRun("chmod 604 net0 && chown root:nogroup net0"));
  ASSERT_EQ(StatOf(Face("net0"), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISSOCK(st.st_mode)) << std::oct << st.st_mode;
  EXPECT_EQ(st.st_mode & 07777, 0604u) << "chmod of the network" << std::oct << st.st_mode;
  EXPECT_EQ(st.st_uid, 0u) << "chown of the network";
  EXPECT_EQ(st.st_gid, 65534u) << "chown of the network";
}

TEST_P(SocketTreeTest, TreeMirrorsDirectoriesAndNetworks) {
  ASSERT_NO_FATAL_FAILURE(MustRun("mkdir -p lab/empty && touch lab/net1 net0"));
  const CommandResult listing = Shell("ls -R " + Tree());
  EXPECT_EQ(listing.out, absl::StrCat(Tree(), ":\nlab\nnet0\n\n", Tree(), "/lab:\nempty\nnet1\n\n",
                                      Tree(), "/lab/empty:\n"))
      << listing;
  struct stat st {};
  ASSERT_EQ(StatOf(Face("lab"), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode)) << std::oct << st.st_mode;
  EXPECT_TRUE(SocketClient::Connect(kind(), Face("lab/net1")).valid());

  // A renamed directory takes its sockets along; a removed one goes.
  ASSERT_NO_FATAL_FAILURE(MustRun("mv lab lab2 && rmdir lab2/empty"));
  EXPECT_EQ(StatOf(Face("lab/net1"), &st), ENOENT);
  EXPECT_EQ(StatOf(Face("lab"), &st), ENOENT);
  ASSERT_EQ(StatOf(Face("lab2/net1"), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode)) << std::oct << st.st_mode;
  EXPECT_TRUE(SocketClient::Connect(kind(), Face("lab2/net1")).valid());
  EXPECT_EQ(Shell("ls -R " + Tree()).out,
            absl::StrCat(Tree(), ":\nlab2\nnet0\n\n", Tree(), "/lab2:\nnet1\n"));
}

TEST_P(SocketTreeTest, NothingCanBeMadeChangedOrRemovedInTheTree) {
  ASSERT_NO_FATAL_FAILURE(MustRun("mkdir lab && touch net0 net1 lab/net2 && chmod 644 net0"));
  const std::string face = Face("net0");
  const std::vector<std::pair<std::string, std::function<int()>>> changes = {
      {"open O_CREAT",
       [&] {
         Fd fd = Open(Face("new"), O_WRONLY | O_CREAT, 0644);
         return fd.valid() ? 0 : errno;
       }},
      {"mkdir", [&] { return ErrnoOf(::mkdir(Face("dir").c_str(), 0755)); }},
      {"mkdir in a mirrored directory",
       [&] { return ErrnoOf(::mkdir(Face("lab/dir").c_str(), 0755)); }},
      {"mknod S_IFSOCK",
       [&] { return ErrnoOf(::mknod(Face("sock").c_str(), S_IFSOCK | 0644, 0)); }},
      {"mknod S_IFREG", [&] { return ErrnoOf(::mknod(Face("file").c_str(), S_IFREG | 0644, 0)); }},
      {"bind",
       [&] {
         Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
         sockaddr_un address{};
         address.sun_family = AF_UNIX;
         const std::string path = Face("bound");
         std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
         return ErrnoOf(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)));
       }},
      {"symlink", [&] { return ErrnoOf(::symlink("net0", Face("link").c_str())); }},
      {"link", [&] { return ErrnoOf(::link(PathOf("net1").c_str(), Face("hard").c_str())); }},
      {"unlink", [&] { return ErrnoOf(::unlink(face.c_str())); }},
      {"rmdir", [&] { return ErrnoOf(::rmdir(Face("lab").c_str())); }},
      {"rename in the tree",
       [&] { return ErrnoOf(::rename(face.c_str(), Face("other").c_str())); }},
      {"rename out of the tree",
       [&] { return ErrnoOf(::rename(face.c_str(), PathOf("moved").c_str())); }},
      {"rename into the tree",
       [&] { return ErrnoOf(::rename(PathOf("net1").c_str(), Face("net1b").c_str())); }},
      {"rename over a socket",
       [&] { return ErrnoOf(::rename(Face("net1").c_str(), face.c_str())); }},
      {"chmod", [&] { return ErrnoOf(::chmod(face.c_str(), 0777)); }},
      {"chown", [&] { return ErrnoOf(::chown(face.c_str(), 65534, 65534)); }},
      {"setxattr", [&] { return ErrnoOf(::setxattr(face.c_str(), "user.ipn.qlen", "7", 1, 0)); }},
      {"utimensat", [&] { return ErrnoOf(::utimensat(AT_FDCWD, face.c_str(), nullptr, 0)); }},
  };
  for (const auto& [what, change] : changes) {
    EXPECT_THAT(change(), IsRefusedChange()) << what << " in " << Tree();
  }

  // Nothing changed: the same sockets, the network's mode, and the network itself.
  EXPECT_EQ(Shell("ls -R " + Tree()).out,
            absl::StrCat(Tree(), ":\nlab\nnet0\nnet1\n\n", Tree(), "/lab:\nnet2\n"));
  struct stat st {};
  ASSERT_EQ(StatOf(face, &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u) << std::oct << st.st_mode;
  ASSERT_EQ(StatOf(PathOf("net1"), &st), 0) << "the network moved into the tree is gone";
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_TRUE(SocketClient::Connect(kind(), face).valid());
}

TEST_P(SocketTreeTest, RenamingTheNetworkMovesItsSocketAndKeepsItsConnections) {
  ASSERT_EQ(::mknod(PathOf("net0").c_str(), S_IFREG | 0644, 0), 0);
  SocketClient before = JoinSocket(daemon().path(), kind(), "net0");
  ASSERT_TRUE(before.valid());
  Fd file = Open(PathOf("net0"), O_RDWR);
  ASSERT_TRUE(file.valid());

  ASSERT_EQ(::rename(PathOf("net0").c_str(), PathOf("net1").c_str()), 0) << std::strerror(errno);
  struct stat st {};
  EXPECT_EQ(StatOf(Face("net0"), &st), ENOENT);
  EXPECT_EQ(SocketClient::Connect(kind(), Face("net0")).error(), ENOENT);
  ASSERT_EQ(StatOf(Face("net1"), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  SocketClient after = JoinSocket(daemon().path(), kind(), "net1");
  ASSERT_TRUE(after.valid());

  // Both connections are ports of the renamed network, beside the file opened before.
  ASSERT_THAT(Send(file.get(), "to both"), Wrote(7));
  EXPECT_THAT(before.Receive(), IsPacket("to both"));
  EXPECT_THAT(after.Receive(), IsPacket("to both"));
  ASSERT_THAT(before.Send("from before"), Wrote(11));
  EXPECT_THAT(Receive(file.get()), IsPacket("from before"));
  EXPECT_THAT(after.Receive(), IsPacket("from before"));
}

TEST_P(SocketTreeTest, RemovingTheNetworkClosesItsConnectionsAndItsSocket) {
  ASSERT_EQ(::mknod(PathOf("net0").c_str(), S_IFREG | 0644, 0), 0);
  ASSERT_EQ(::mknod(PathOf("other").c_str(), S_IFREG | 0644, 0), 0);
  SocketClient first = JoinSocket(daemon().path(), kind(), "net0");
  SocketClient second = JoinSocket(daemon().path(), kind(), "net0");
  SocketClient elsewhere = JoinSocket(daemon().path(), kind(), "other");
  ASSERT_TRUE(first.valid() && second.valid() && elsewhere.valid());
  // Both are ports before the removal (a packet from one reaches the other).
  ASSERT_THAT(first.Send("hello"), Wrote(5));
  ASSERT_THAT(second.Receive(), IsPacket("hello"));

  ASSERT_EQ(::unlink(PathOf("net0").c_str()), 0) << std::strerror(errno);
  EXPECT_THAT(first.Receive(), IsClosed());
  EXPECT_THAT(second.Receive(), IsClosed());
  struct stat st {};
  EXPECT_EQ(StatOf(Face("net0"), &st), ENOENT);
  EXPECT_EQ(SocketClient::Connect(kind(), Face("net0")).error(), ENOENT);
  // Another network's connection lives on.
  EXPECT_THAT(elsewhere.Receive(absl::Milliseconds(200)), ::testing::Not(IsClosed()));
  Fd other = Open(PathOf("other"), O_WRONLY);
  ASSERT_THAT(Send(other.get(), "still here"), Wrote(10));
  EXPECT_THAT(elsewhere.Receive(), IsPacket("still here"));
}

TEST_P(SocketTreeTest, SocketAcceptsAConnectionAsSoonAsTheCreateReturns) {
  for (int i = 0; i < 50; ++i) {
    const std::string name = absl::StrCat("net", i);
    switch (i % 3) {
      case 0: {
        Fd created = Open(PathOf(name), O_WRONLY | O_CREAT | O_EXCL, 0644);
        ASSERT_TRUE(created.valid()) << name << ": " << std::strerror(errno);
        break;
      }
      case 1:
        ASSERT_EQ(::mknod(PathOf(name).c_str(), S_IFREG | 0644, 0), 0) << std::strerror(errno);
        break;
      default:
        ASSERT_NO_FATAL_FAILURE(MustRun("touch " + name));
    }
    SocketClient client = SocketClient::Connect(kind(), Face(name));
    ASSERT_TRUE(client.valid()) << "connect right after creating " << name << ": "
                                << std::strerror(client.error());
  }
}

using SocketTreeRootTest = MountedTest;

TEST_F(SocketTreeRootTest, FaceTreeRootsAreReservedNames) {
  ASSERT_EQ(::mknod(PathOf("net0").c_str(), S_IFREG | 0644, 0), 0);
  for (const std::string name : {".seqpacket", ".stream"}) {
    struct stat st {};
    ASSERT_EQ(StatOf(PathOf(name), &st), 0) << name;
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << name;
    EXPECT_FALSE(Open(PathOf(name), O_WRONLY | O_CREAT | O_EXCL, 0644).valid());
    EXPECT_EQ(errno, EEXIST) << name << ": open O_CREAT|O_EXCL";
    EXPECT_EQ(ErrnoOf(::mkdir(PathOf(name).c_str(), 0755)), EEXIST) << name << ": mkdir";
    EXPECT_EQ(ErrnoOf(::mknod(PathOf(name).c_str(), S_IFREG | 0644, 0)), EEXIST)
        << name << ": mknod";
    EXPECT_EQ(ErrnoOf(::rmdir(PathOf(name).c_str())), EPERM) << name << ": rmdir";
    EXPECT_EQ(ErrnoOf(::rename(PathOf(name).c_str(), PathOf("elsewhere").c_str())), EPERM)
        << name << ": rename";
    EXPECT_EQ(StatOf(PathOf(name), &st), 0) << name << " is gone";
  }
  EXPECT_TRUE(SocketClient::Connect(SocketKind::kSeqpacket, PathOf(".seqpacket/net0")).valid());
  EXPECT_TRUE(SocketClient::Connect(SocketKind::kStream, PathOf(".stream/net0")).valid());
}

// True while a process runs with `arguments` at the end of its command line.
bool ProcessRuns(const std::string& arguments) {
  return RunCommand({"pgrep", "-f", "--", arguments + "$"}).exit_code == 0;
}

// `ipnfs --foreground=false` returns once the mount is usable: a script can create a network and
// connect to its socket at once, and the daemon ends when the mount is unmounted.
TEST(SocketBackgroundTest, DetachedDaemonReturnsOnceTheSocketsCanBeConnectedTo) {
  TempDir directory;
  const std::string mount_point = directory.PathOf("mnt");
  ASSERT_EQ(::mkdir(mount_point.c_str(), 0755), 0);
  const CommandResult started =
      RunCommand({DaemonBinary(), "--foreground=false", "--state=none", mount_point});
  ASSERT_EQ(started.exit_code, 0) << started;
  ASSERT_TRUE(IsMounted(mount_point));
  const std::string network = mount_point + "/net";
  ASSERT_EQ(::mknod(network.c_str(), S_IFREG | 0666, 0), 0) << std::strerror(errno);
  for (SocketKind kind : {SocketKind::kSeqpacket, SocketKind::kStream}) {
    SocketClient client = SocketClient::Connect(kind, FacePath(mount_point, kind, "net"));
    EXPECT_TRUE(client.valid()) << NameOf(kind) << ": " << std::strerror(client.error());
  }
  const CommandResult unmounted = RunCommand({"/usr/bin/fusermount3", "-u", mount_point});
  ASSERT_EQ(unmounted.exit_code, 0) << unmounted;
  EXPECT_TRUE(
      WaitUntil([&] { return !ProcessRuns("--state=none " + mount_point); }, absl::Seconds(10)))
      << "the daemon is still running after the unmount";
}

INSTANTIATE_TEST_SUITE_P(BothKinds, SocketTreeTest,
                         ::testing::Values(SocketKind::kSeqpacket, SocketKind::kStream),
                         [](const ::testing::TestParamInfo<SocketKind>& info) {
                           return std::string(NameOf(info.param));
                         });

}  // namespace
}  // namespace ipnfs::tests
