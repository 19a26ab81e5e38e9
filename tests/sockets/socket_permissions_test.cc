// Integration tests of access control on the socket faces. connect() itself always succeeds (the
// kernel checks nothing on FUSE); the daemon decides when it accepts, from the peer's credentials
// against the network's mode, as an open would: r = the connection receives, w = its packets are
// sent (else dropped and counted in drops_no_send), neither = closed at once with no data
// (connections_refused). The user nobody (socket_peer through setpriv) meets a network as its
// owner, through its group, or as anybody else; supplementary groups count; root bypasses the
// bits; chmod applies to the next connection, never to one already accepted.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/features/feature_support.h"
#include "tests/mounted_test.h"
#include "tests/port_io.h"
#include "tests/run_as.h"
#include "tests/sockets/socket_client.h"
#include "tests/sockets/socket_peer_process.h"
#include "tests/temp_dir.h"
#include "tests/wait_until.h"

namespace ipnfs::tests {
namespace {

using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::Eq;

constexpr char kNobodyUid[] = "65534";

// The line the peer prints when its connection ends.
::testing::Matcher<const std::string&> IsEnd() { return AnyOf(Eq("eof"), Eq("recv ECONNRESET")); }

enum class UserClass { kOwner, kGroup, kOther };

// The mode that gives nobody `bits` (r=4, w=2) in `user_class` and the other read/write bits in
// the other classes, so that the daemon passes only if it picks the right class.
mode_t ModeFor(UserClass user_class, int bits) {
  const int others = 6 - bits;
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

class SocketPermissionsTest : public MountedTest {
 protected:
  void MustRun(const std::string& script) {
    const CommandResult result = Shell(script);
    ASSERT_EQ(result.exit_code, 0) << result;
  }
  std::string Face(SocketKind kind) const { return FacePath(daemon_->path(), kind, "net"); }
  std::string Net() const { return daemon_->PathOf("net"); }

  // The port line of the connection of user `uid`, once it shows (up to 5 s).
  std::optional<PortLine> PortOfUid(const std::string& uid) {
    std::optional<PortLine> found;
    WaitUntil([&] {
      for (PortLine& line : PortsOf(Net())) {
        if (line["uid"] == uid) found = line;
      }
      return found.has_value();
    });
    return found;
  }
  // Waits until counter `name` of user.ipn.stats is `value`.
  ::testing::AssertionResult StatReaches(const std::string& name, int64_t value) {
    if (WaitUntil([&] { return StatsOf(Net())[name] == value; })) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << name << " is " << StatsOf(Net())[name] << ", not " << value << " after 5 s";
  }
  // A file in a directory nobody can read, made when the test lets a peer go on.
  std::string Flag(const std::string& name) const { return flags_.PathOf(name); }
  void Raise(const std::string& name) { std::ofstream(Flag(name)).put('\n'); }

  TempDir flags_;
};

using MatrixParam = std::tuple<SocketKind, UserClass, int>;

class SocketPermissionMatrixTest : public SocketPermissionsTest,
                                   public ::testing::WithParamInterface<MatrixParam> {};

TEST_P(SocketPermissionMatrixTest, NobodyReceivesAndSendsExactlyAsItsClassBitsAllow) {
  const auto [kind, user_class, bits] = GetParam();
  const bool may_receive = bits & 4, may_send = bits & 2;
  const mode_t mode = ModeFor(user_class, bits);
  ASSERT_NO_FATAL_FAILURE(MustRun(
      absl::StrFormat("touch net && chown %s net && chmod %04o net", OwnerFor(user_class), mode)));
  Fd file = Open(Net(), O_RDWR);
  ASSERT_TRUE(file.valid());
  SocketPeer peer(Nobody(), kind, Face(kind),
                  {"send=from-nobody", "await=" + Flag("go"), "recv=1500"});
  ASSERT_TRUE(peer.WaitForLines(1)) << peer.Stderr();
  ASSERT_EQ(peer.Lines()[0], "connected") << "connect() must succeed whatever the mode";

  if (!may_receive && !may_send) {
    EXPECT_TRUE(StatReaches("connections_refused", 1));
    Raise("go");
    const std::vector<std::string> lines = peer.Finish();
    ASSERT_EQ(lines.size(), 4u) << ::testing::PrintToString(lines);
    EXPECT_THAT(lines[3], IsEnd()) << "a refused connection ends at once, with no data";
    for (const PortLine& line : PortsOf(Net())) EXPECT_NE(line.at("uid"), kNobodyUid);
    EXPECT_THAT(ReadNow(file.get()), FailsWith(EAGAIN)) << "a refused connection sent a packet";
    return;
  }
  std::optional<PortLine> line = PortOfUid(kNobodyUid);
  ASSERT_TRUE(line.has_value()) << "no port for nobody's connection, mode "
                                << absl::StrFormat("%04o", mode);
  EXPECT_EQ((*line)["mode"], may_receive && may_send ? "rw" : may_receive ? "r" : "w");
  if (may_send) {
    EXPECT_THAT(Receive(file.get()), IsPacket("from-nobody"));
  } else {
    EXPECT_TRUE(StatReaches("drops_no_send", 1));
    EXPECT_THAT(ReadNow(file.get()), FailsWith(EAGAIN)) << "a packet from a port without w";
  }
  ASSERT_THAT(Send(file.get(), "to-nobody"), Wrote(9));
  Raise("go");
  EXPECT_THAT(peer.Finish(), ElementsAre("connected", "sent 11", "awaited",
                                         may_receive ? "recv to-nobody" : "timeout"))
      << "mode " << absl::StrFormat("%04o", mode);
  EXPECT_EQ(StatsOf(Net())["connections_refused"], 0);
}

std::string MatrixName(const ::testing::TestParamInfo<MatrixParam>& info) {
  const auto [kind, user_class, bits] = info.param;
  const char* classes[] = {"Owner", "Group", "Other"};
  return absl::StrCat(NameOf(kind), "_", classes[static_cast<int>(user_class)], "_",
                      (bits & 4) ? "r" : "_", (bits & 2) ? "w" : "_");
}

INSTANTIATE_TEST_SUITE_P(
    EveryKindClassAndBits, SocketPermissionMatrixTest,
    ::testing::Combine(::testing::Values(SocketKind::kSeqpacket, SocketKind::kStream),
                       ::testing::Values(UserClass::kOwner, UserClass::kGroup, UserClass::kOther),
                       ::testing::Values(0, 2, 4, 6)),
    MatrixName);

class SocketAccessTest : public SocketPermissionsTest,
                         public ::testing::WithParamInterface<SocketKind> {
 protected:
  SocketKind kind() const { return GetParam(); }
};

TEST_P(SocketAccessTest, SupplementaryGroupsCountForTheGroupClass) {
  ASSERT_NO_FATAL_FAILURE(MustRun("touch net && chown root:users net && chmod 060 net"));
  Fd file = Open(Net(), O_RDWR);
  SocketPeer member(RunAs{.user = "nobody", .group = "nogroup", .groups = "100"}, kind(),
                    Face(kind()), {"send=from-member", "recv=5000"});
  EXPECT_THAT(Receive(file.get()), IsPacket("from-member"));
  std::optional<PortLine> line = PortOfUid(kNobodyUid);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ((*line)["mode"], "rw");
  ASSERT_THAT(Send(file.get(), "to-member"), Wrote(9));
  EXPECT_THAT(member.Finish(), ElementsAre("connected", "sent 11", "recv to-member"));

  SocketPeer stranger(Nobody(), kind(), Face(kind()), {"recv=5000"});
  const std::vector<std::string> lines = stranger.Finish();
  ASSERT_EQ(lines.size(), 2u) << ::testing::PrintToString(lines);
  EXPECT_THAT(lines[1], IsEnd());
  EXPECT_TRUE(StatReaches("connections_refused", 1));
}

TEST_P(SocketAccessTest, RootBypassesTheMode) {
  ASSERT_NO_FATAL_FAILURE(MustRun("touch net && chown nobody:nogroup net && chmod 000 net"));
  Fd file = Open(Net(), O_RDWR);
  SocketClient root = SocketClient::Connect(kind(), Face(kind()));
  ASSERT_TRUE(root.valid()) << std::strerror(root.error());
  ASSERT_THAT(root.Send("from root"), Wrote(9));
  EXPECT_THAT(Receive(file.get()), IsPacket("from root"));
  ASSERT_THAT(Send(file.get(), "to root"), Wrote(7));
  EXPECT_THAT(root.Receive(), IsPacket("to root"));
  std::optional<PortLine> line = PortOfUid("0");
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ((*line)["mode"], "rw");
  const std::map<std::string, int64_t> stats = StatsOf(Net());
  EXPECT_EQ(stats.at("connections_refused"), 0);
  EXPECT_EQ(stats.at("drops_no_send"), 0);
}

TEST_P(SocketAccessTest, ChmodAppliesToNewConnectionsButNotToOnesAlreadyAccepted) {
  ASSERT_NO_FATAL_FAILURE(MustRun("touch net && chmod 606 net"));
  Fd file = Open(Net(), O_RDWR);
  SocketPeer before(Nobody(), kind(), Face(kind()),
                    {"send=one", "await=" + Flag("go"), "send=two", "recv=5000"});
  ASSERT_THAT(Receive(file.get()), IsPacket("one"));
  ASSERT_EQ(::chmod(Net().c_str(), 0600), 0);

  SocketPeer after(Nobody(), kind(), Face(kind()), {"send=refused", "recv=5000"});
  const std::vector<std::string> lines = after.Finish();
  ASSERT_GE(lines.size(), 2u) << ::testing::PrintToString(lines);
  EXPECT_EQ(lines[0], "connected");
  EXPECT_THAT(lines.back(), IsEnd()) << "a connection after chmod 600 was let in";
  EXPECT_TRUE(StatReaches("connections_refused", 1));

  // The connection accepted before the chmod still sends and receives.
  Raise("go");
  EXPECT_THAT(Receive(file.get()), IsPacket("two"));
  ASSERT_THAT(Send(file.get(), "three"), Wrote(5));
  EXPECT_THAT(before.Finish(),
              ElementsAre("connected", "sent 3", "awaited", "sent 3", "recv three"));
  EXPECT_THAT(ReadNow(file.get()), FailsWith(EAGAIN)) << "the refused connection sent a packet";

  // And chmod back lets the next one in.
  ASSERT_EQ(::chmod(Net().c_str(), 0606), 0);
  SocketPeer again(Nobody(), kind(), Face(kind()), {"send=again"});
  EXPECT_THAT(Receive(file.get()), IsPacket("again"));
  EXPECT_THAT(again.Finish(), ElementsAre("connected", "sent 5"));
}

INSTANTIATE_TEST_SUITE_P(BothKinds, SocketAccessTest,
                         ::testing::Values(SocketKind::kSeqpacket, SocketKind::kStream),
                         [](const ::testing::TestParamInfo<SocketKind>& info) {
                           return std::string(NameOf(info.param));
                         });

}  // namespace
}  // namespace ipnfs::tests
