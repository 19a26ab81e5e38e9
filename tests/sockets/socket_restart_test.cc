// Integration tests of socket faces across the daemon's life: the connections end when the daemon
// dies or unmounts; the sockets come back, with the networks' modes, when it starts again on the
// same state file; clients connect again and exchange packets with file ports; a network made
// right after the mount gets its sockets too.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/features/feature_support.h"
#include "tests/mounted_test.h"
#include "tests/port_io.h"
#include "tests/sockets/socket_client.h"
#include "tests/sockets/socket_join.h"
#include "tests/subprocess.h"

namespace ipnfs::tests {
namespace {

class SocketRestartTest : public WithStateFile<MountedTest>,
                          public ::testing::WithParamInterface<SocketKind> {
 protected:
  SocketKind kind() const { return GetParam(); }
  std::string Face(const std::string& network) const {
    return FacePath(daemon_->path(), kind(), network);
  }

  // Success when a new connection to `network`'s face and a new open of its file exchange a
  // packet both ways.
  ::testing::AssertionResult Exchanges(const std::string& network) {
    SocketClient client = SocketClient::ConnectWithin(kind(), Face(network), absl::Seconds(5));
    if (!client.valid()) {
      return ::testing::AssertionFailure()
             << "connect " << Face(network) << ": " << std::strerror(client.error());
    }
    Fd file = Open(PathOf(network), O_RDWR);
    if (!file.valid()) return ::testing::AssertionFailure() << "open: " << std::strerror(errno);
    // The connection may be accepted a little after connect() returns: send from it first.
    if (client.Send("up").error != 0) return ::testing::AssertionFailure() << "send failed";
    const IoResult up = Receive(file.get());
    if (up.bytes != "up") return ::testing::AssertionFailure() << "the file did not get it";
    if (Send(file.get(), "down").error != 0) return ::testing::AssertionFailure() << "write";
    const IoResult down = client.Receive();
    if (down.bytes != "down") return ::testing::AssertionFailure() << "the socket did not get it";
    return ::testing::AssertionSuccess();
  }

  void MustRun(const std::string& script) {
    const CommandResult result = Shell(script);
    ASSERT_EQ(result.exit_code, 0) << result;
  }
};

TEST_P(SocketRestartTest, SocketsComeBackAfterKill9AndARestartAndClientsReconnect) {
  ASSERT_NO_FATAL_FAILURE(
      MustRun("mkdir lab && touch lab/net0 net1 && chmod 640 lab/net0 && chown nobody lab/net0"));
  ASSERT_TRUE(Exchanges("lab/net0"));
  SocketClient before = SocketClient::Connect(kind(), Face("net1"));
  ASSERT_TRUE(before.valid()) << std::strerror(before.error());

  ASSERT_NO_FATAL_FAILURE(KillDaemon());
  EXPECT_THAT(before.Receive(), IsClosed()) << "a connection outlived its daemon";
  ASSERT_NO_FATAL_FAILURE(RestartDaemon());

  EXPECT_TRUE(Exchanges("lab/net0"));
  EXPECT_TRUE(Exchanges("net1"));
  struct stat st {};
  ASSERT_EQ(::stat(Face("lab/net0").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISSOCK(st.st_mode)) << std::oct << st.st_mode;
  EXPECT_EQ(st.st_mode & 07777, 0640u) << std::oct << st.st_mode;
  EXPECT_EQ(st.st_uid, 65534u);
  const CommandResult listing = Shell(std::string("ls -R ") + TreeOf(kind()));
  EXPECT_EQ(listing.out,
            std::string(TreeOf(kind())) + ":\nlab\nnet1\n\n" + TreeOf(kind()) + "/lab:\nnet0\n")
      << listing;
}

TEST_P(SocketRestartTest, UnmountClosesEveryConnectionAndARestartServesNewOnes) {
  ASSERT_NO_FATAL_FAILURE(MustRun("touch net0 net1"));
  SocketClient first = JoinSocket(daemon().path(), kind(), "net0");
  SocketClient second = JoinSocket(daemon().path(), kind(), "net0");
  SocketClient third = JoinSocket(daemon().path(), kind(), "net1");
  ASSERT_TRUE(first.valid() && second.valid() && third.valid());
  ASSERT_THAT(first.Send("hello"), Wrote(5));
  ASSERT_THAT(second.Receive(), IsPacket("hello"));

  ASSERT_EQ(daemon().Stop(SIGTERM), 0) << daemon().StderrText();
  EXPECT_THAT(first.Receive(), IsClosed());
  EXPECT_THAT(second.Receive(), IsClosed());
  EXPECT_THAT(third.Receive(), IsClosed());

  const absl::Status restarted = daemon().Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;
  EXPECT_TRUE(Exchanges("net0"));
  EXPECT_TRUE(Exchanges("net1"));
}

TEST_P(SocketRestartTest, NetworkCreatedAfterARestartHasItsSocketAtOnce) {
  ASSERT_NO_FATAL_FAILURE(MustRun("touch old"));
  ASSERT_NO_FATAL_FAILURE(KillDaemon());
  ASSERT_NO_FATAL_FAILURE(RestartDaemon());
  ASSERT_EQ(::mknod(PathOf("new").c_str(), S_IFREG | 0644, 0), 0) << std::strerror(errno);
  SocketClient client = SocketClient::Connect(kind(), Face("new"));
  EXPECT_TRUE(client.valid()) << std::strerror(client.error());
  EXPECT_TRUE(Exchanges("new"));
  EXPECT_TRUE(Exchanges("old"));
}

// Aborts the FUSE connection of the mount at `mount_point` (through fusectl, mounted if need be),
// so that calls stuck waiting for a daemon that cannot answer return: a hang then fails the test
// instead of hanging it for good.
void AbortFuseConnection(const std::string& mount_point) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (std::string line; std::getline(mountinfo, line);) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() < 5 || fields[4] != mount_point) continue;
    const std::string minor = fields[2].substr(fields[2].find(':') + 1);
    RunShell(
        "mountpoint -q /sys/fs/fuse/connections || "
        "mount -t fusectl none /sys/fs/fuse/connections");
    std::ofstream(absl::StrCat("/sys/fs/fuse/connections/", minor, "/abort")) << "1";
  }
}

using SocketStartTest = MountedTest;

TEST_F(SocketStartTest, NetworkCreatedRightAfterTheMountGetsItsSocketsWithoutHanging) {
  for (int round = 0; round < 20; ++round) {
    if (round > 0) {  // Round 0 uses the daemon SetUp() just mounted.
      ASSERT_EQ(daemon().Stop(SIGTERM), 0) << daemon().StderrText();
      const absl::Status restarted = daemon().Restart();
      ASSERT_TRUE(restarted.ok()) << restarted;
    }
    // At once, as a script that mounts and then creates a network would.
    const std::string net = PathOf("net0");
    std::future<int> created = std::async(std::launch::async, [&net] {
      return ::mknod(net.c_str(), S_IFREG | 0644, 0) == 0 ? 0 : errno;
    });
    if (created.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
      AbortFuseConnection(daemon().path());
      created.wait();
      FAIL() << "mknod of a network right after the mount still waits after 5 s (round " << round
             << ")";
    }
    ASSERT_EQ(created.get(), 0) << "round " << round;
    for (SocketKind kind : {SocketKind::kSeqpacket, SocketKind::kStream}) {
      EXPECT_TRUE(SocketClient::Connect(kind, FacePath(daemon().path(), kind, "net0")).valid())
          << NameOf(kind) << ", round " << round;
    }
  }
}

TEST_F(SocketStartTest, DaemonStoppedRightAfterTheMountExitsCleanly) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      const absl::Status restarted = daemon().Restart();
      ASSERT_TRUE(restarted.ok()) << restarted;
    }
    ASSERT_EQ(::kill(daemon().pid(), SIGTERM), 0);
    const std::optional<int> exited = daemon().WaitForExit(absl::Seconds(5));
    if (!exited.has_value()) {
      AbortFuseConnection(daemon().path());
      FAIL() << "the daemon still runs 5 s after SIGTERM right after its mount (round " << round
             << ")";
    }
    ASSERT_EQ(*exited, 0) << "round " << round << ": " << daemon().StderrText();
  }
}

INSTANTIATE_TEST_SUITE_P(BothKinds, SocketRestartTest,
                         ::testing::Values(SocketKind::kSeqpacket, SocketKind::kStream),
                         [](const ::testing::TestParamInfo<SocketKind>& info) {
                           return std::string(NameOf(info.param));
                         });

}  // namespace
}  // namespace ipnfs::tests
