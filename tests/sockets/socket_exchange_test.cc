// Integration tests of packets through the socket faces: a connection is a port like an open of
// the network file, so seqpacket and stream clients exchange packets with file ports both ways
// (hub and switch), fan out with them, show in /.pcap monitors, in user.ipn.ports (pid, uid,
// comm, mode) and user.ipn.stats, and join and leave in /.events.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/frame_builder.h"
#include "tests/features/feature_support.h"
#include "tests/mounted_test.h"
#include "tests/port_io.h"
#include "tests/sockets/socket_client.h"
#include "tests/sockets/socket_join.h"
#include "tests/wait_until.h"

namespace ipnfs::tests {
namespace {

using ::testing::Contains;
using ::testing::IsSupersetOf;
using ::testing::Key;

const MacAddress kMacA = TestMac(0x0a);
const MacAddress kMacB = TestMac(0x0b);
const MacAddress kMacC = TestMac(0x0c);

// A packet of `size` bytes whose content depends on `seed`.
std::string Pattern(size_t size, int seed) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 7 + seed) % 251);
  return bytes;
}

uint32_t LittleEndian32(absl::string_view bytes, size_t offset) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = value << 8 | static_cast<uint8_t>(bytes[offset + i]);
  return value;
}

// The line of the port of process `pid` in user.ipn.ports of `path`.
std::optional<PortLine> PortOfPid(const std::string& path, pid_t pid) {
  for (PortLine& line : PortsOf(path)) {
    if (line["pid"] == std::to_string(pid)) return line;
  }
  return std::nullopt;
}

class SocketExchangeTest : public MountedTest, public ::testing::WithParamInterface<SocketKind> {
 protected:
  void SetUp() override {
    MountedTest::SetUp();
    if (HasFailure()) return;
    ASSERT_EQ(::mknod(PathOf("net0").c_str(), S_IFREG | 0666, 0), 0);
  }

  SocketKind kind() const { return GetParam(); }
  // A connection to net0's face of `kind`, admitted as a port (it shows in user.ipn.ports).
  SocketClient Join(SocketKind kind) { return JoinSocket(daemon().path(), kind, "net0"); }
  SocketClient Join() { return Join(kind()); }
};

TEST_P(SocketExchangeTest, HubCarriesPacketsBetweenASocketAndAFileBothWays) {
  Fd file = Open(PathOf("net0"), O_RDWR);
  SocketClient socket = Join();
  ASSERT_TRUE(file.valid() && socket.valid());
  for (const size_t size : {size_t{1}, size_t{60}, size_t{1514}, size_t{9000}, kMtu}) {
    const std::string down = Pattern(size, 1), up = Pattern(size, 2);
    ASSERT_THAT(Send(file.get(), down), Wrote(size));
    EXPECT_THAT(socket.Receive(), IsPacket(down)) << size << " bytes, file to socket";
    ASSERT_THAT(socket.Send(up), Wrote(size));
    EXPECT_THAT(Receive(file.get()), IsPacket(up)) << size << " bytes, socket to file";
  }
  EXPECT_THAT(socket.ReceiveNow(), FailsWith(ETIMEDOUT)) << "the socket got its own packet back";
  EXPECT_THAT(ReadNow(file.get()), FailsWith(EAGAIN)) << "the file got its own packet back";
  const std::map<std::string, int64_t> stats = StatsOf(PathOf("net0"));
  EXPECT_EQ(stats.at("ports"), 2);
  EXPECT_EQ(stats.at("packets_sent"), 10);
  EXPECT_EQ(stats.at("packets_received"), 10);
}

TEST_P(SocketExchangeTest, SwitchSendsUnicastOnlyToThePortThatOwnsTheMac) {
  ASSERT_EQ(SetXattr(PathOf("net0"), "user.ipn.policy", "switch"), 0);
  SocketClient a = Join();
  Fd b = Open(PathOf("net0"), O_RDWR);
  Fd c = Open(PathOf("net0"), O_RDWR);
  ASSERT_TRUE(a.valid() && b.valid() && c.valid());
  // Broadcasts teach the switch where A and B are; everybody else gets them.
  const std::string learn_a = FrameBuilder().From(kMacA).PayloadText("learn A").BuildString();
  const std::string learn_b = FrameBuilder().From(kMacB).PayloadText("learn B").BuildString();
  ASSERT_THAT(a.Send(learn_a), Wrote(learn_a.size()));
  EXPECT_THAT(Receive(b.get()), IsPacket(learn_a));
  EXPECT_THAT(Receive(c.get()), IsPacket(learn_a));
  ASSERT_THAT(Send(b.get(), learn_b), Wrote(learn_b.size()));
  EXPECT_THAT(a.Receive(), IsPacket(learn_b));
  EXPECT_THAT(Receive(c.get()), IsPacket(learn_b));

  const std::string to_b =
      FrameBuilder().To(kMacB).From(kMacA).PayloadText("socket to B").BuildString();
  const std::string to_a =
      FrameBuilder().To(kMacA).From(kMacB).PayloadText("file to A").BuildString();
  ASSERT_THAT(a.Send(to_b), Wrote(to_b.size()));
  EXPECT_THAT(Receive(b.get()), IsPacket(to_b));
  ASSERT_THAT(Send(b.get(), to_a), Wrote(to_a.size()));
  EXPECT_THAT(a.Receive(), IsPacket(to_a));
  // C (MAC C, never seen) got neither unicast.
  const std::string from_c = FrameBuilder().To(kMacA).From(kMacC).PayloadText("c").BuildString();
  EXPECT_THAT(ReadNow(c.get()), FailsWith(EAGAIN)) << "a unicast frame was flooded";
  ASSERT_THAT(Send(c.get(), from_c), Wrote(from_c.size()));
  EXPECT_THAT(a.Receive(), IsPacket(from_c));
  EXPECT_THAT(ReadNow(b.get()), FailsWith(EAGAIN)) << "a unicast frame to A reached B";
}

TEST_P(SocketExchangeTest, OneSenderFansOutToSocketsOfBothKindsAndAFile) {
  SocketClient sender = Join();
  SocketClient seqpacket = Join(SocketKind::kSeqpacket);
  SocketClient stream = Join(SocketKind::kStream);
  Fd file = Open(PathOf("net0"), O_RDONLY);
  Fd file_sender = Open(PathOf("net0"), O_WRONLY);
  ASSERT_TRUE(file.valid() && file_sender.valid());
  // Each sender's packets arrive in order; the two senders' are not ordered with each other.
  for (int i = 0; i < 10; ++i) ASSERT_THAT(sender.Send(absl::StrCat("socket ", i)), Wrote(8));
  for (int i = 0; i < 10; ++i) {
    const std::string packet = absl::StrCat("socket ", i);
    EXPECT_THAT(seqpacket.Receive(), IsPacket(packet));
    EXPECT_THAT(stream.Receive(), IsPacket(packet));
    EXPECT_THAT(Receive(file.get()), IsPacket(packet));
  }
  for (int i = 0; i < 10; ++i)
    ASSERT_THAT(Send(file_sender.get(), absl::StrCat("file ", i)), Wrote(6));
  for (int i = 0; i < 10; ++i) {
    const std::string packet = absl::StrCat("file ", i);
    EXPECT_THAT(seqpacket.Receive(), IsPacket(packet));
    EXPECT_THAT(stream.Receive(), IsPacket(packet));
    EXPECT_THAT(Receive(file.get()), IsPacket(packet));
    EXPECT_THAT(sender.Receive(), IsPacket(packet));
  }
  EXPECT_THAT(sender.ReceiveNow(), FailsWith(ETIMEDOUT)) << "the sender got its own packet";
}

TEST_P(SocketExchangeTest, PcapMonitorSeesPacketsBothWaysThroughASocket) {
  Fd monitor = Open(PathOf(".pcap/net0"), O_RDONLY);
  ASSERT_TRUE(monitor.valid()) << std::strerror(errno);
  ASSERT_EQ(Receive(monitor.get(), absl::Seconds(5), 24).bytes.size(), 24u) << "global header";
  SocketClient socket = Join();
  Fd file = Open(PathOf("net0"), O_RDWR);
  const std::string up = FrameBuilder().From(kMacA).PayloadText("from the socket").BuildString();
  const std::string down = FrameBuilder().From(kMacB).PayloadText("to the socket").BuildString();
  ASSERT_THAT(socket.Send(up), Wrote(up.size()));
  ASSERT_THAT(Receive(file.get()), IsPacket(up));
  ASSERT_THAT(Send(file.get(), down), Wrote(down.size()));
  ASSERT_THAT(socket.Receive(), IsPacket(down));
  for (const std::string& frame : {up, down}) {
    const IoResult record = Receive(monitor.get(), absl::Seconds(5), 16);
    ASSERT_EQ(record.bytes.size(), 16u) << std::strerror(record.error);
    EXPECT_EQ(LittleEndian32(record.bytes, 8), frame.size());
    EXPECT_THAT(Receive(monitor.get(), absl::Seconds(5), frame.size()), IsPacket(frame));
  }
}

TEST_P(SocketExchangeTest, PortsListTheConnectionWithThePeersPidUidCommAndMode) {
  EXPECT_FALSE(PortOfPid(PathOf("net0"), ::getpid()).has_value());
  SocketClient socket = Join();
  ASSERT_TRUE(socket.valid());
  std::optional<PortLine> line = PortOfPid(PathOf("net0"), ::getpid());
  ASSERT_TRUE(line.has_value()) << GetXattr(PathOf("net0"), "user.ipn.ports").value;
  EXPECT_EQ((*line)["uid"], "0");
  EXPECT_EQ((*line)["comm"], OwnCommandName());
  EXPECT_EQ((*line)["mode"], "rw");
  EXPECT_EQ(StatsOf(PathOf("net0"))["ports"], 1);

  // It counts its packets like any port.
  Fd file = Open(PathOf("net0"), O_RDWR);
  ASSERT_THAT(socket.Send("out"), Wrote(3));
  ASSERT_THAT(Receive(file.get()), IsPacket("out"));
  ASSERT_THAT(Send(file.get(), "in"), Wrote(2));
  ASSERT_THAT(socket.Receive(), IsPacket("in"));
  line = PortLineOf(PathOf("net0"), (*line)["port"]);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ((*line)["in"], "1") << "packets delivered to the socket";
  EXPECT_EQ((*line)["out"], "1") << "packets the socket sent";

  socket.Close();
  EXPECT_TRUE(WaitUntil([&] { return PortsOf(PathOf("net0")).size() == 1; }))
      << "the closed connection is still a port: "
      << GetXattr(PathOf("net0"), "user.ipn.ports").value;
}

// The words of an event line after its time: "join", "/net0", then KEY=VALUE fields as a map.
struct Event {
  std::string kind;
  std::string path;
  std::map<std::string, std::string> fields;
};

Event ParseEvent(absl::string_view line) {
  std::vector<std::string> words = absl::StrSplit(absl::StripSuffix(line, "\n"), ' ');
  Event event;
  if (words.size() < 3) return event;
  event.kind = words[1];
  event.path = words[2];
  for (size_t i = 3; i < words.size(); ++i) {
    std::pair<std::string, std::string> field = absl::StrSplit(words[i], absl::MaxSplits('=', 1));
    event.fields[field.first] = field.second;
  }
  return event;
}

TEST_P(SocketExchangeTest, EventsShowTheConnectionJoiningAndLeaving) {
  Fd events = Open(PathOf(".events"), O_RDONLY);
  ASSERT_TRUE(events.valid()) << std::strerror(errno);
  SocketClient socket = Join();
  const std::map<std::string, std::string> who = {{"pid", std::to_string(::getpid())},
                                                  {"uid", "0"},
                                                  {"mode", "rw"},
                                                  {"comm", OwnCommandName()},
                                                  {"face", NameOf(kind())}};
  const IoResult join = Receive(events.get());
  ASSERT_EQ(join.error, 0) << std::strerror(join.error);
  const Event joined = ParseEvent(join.bytes);
  EXPECT_EQ(joined.kind, "join") << join.bytes;
  EXPECT_EQ(joined.path, "/net0") << join.bytes;
  EXPECT_THAT(joined.fields, IsSupersetOf(who)) << join.bytes;
  EXPECT_THAT(joined.fields, Contains(Key("port"))) << join.bytes;

  socket.Close();
  const IoResult leave = Receive(events.get());
  ASSERT_EQ(leave.error, 0) << std::strerror(leave.error);
  const Event left = ParseEvent(leave.bytes);
  EXPECT_EQ(left.kind, "leave") << leave.bytes;
  EXPECT_EQ(left.path, "/net0") << leave.bytes;
  EXPECT_THAT(left.fields, IsSupersetOf(who)) << leave.bytes;
  EXPECT_EQ(left.fields, joined.fields) << "the leave names another port: " << leave.bytes;
}

INSTANTIATE_TEST_SUITE_P(BothKinds, SocketExchangeTest,
                         ::testing::Values(SocketKind::kSeqpacket, SocketKind::kStream),
                         [](const ::testing::TestParamInfo<SocketKind>& info) {
                           return std::string(NameOf(info.param));
                         });

}  // namespace
}  // namespace ipnfs::tests
