// Integration tests of malformed input on the socket faces: a stream length prefix of 0 or above
// the network's MTU closes that connection (counted in bad_frames) after the frames before it
// went through; a partial frame at the end of a stream is discarded; a seqpacket message above the
// MTU is dropped and counted (drops_too_big) and its connection stays. Other connections never
// notice.
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/features/feature_support.h"
#include "tests/mounted_test.h"
#include "tests/port_io.h"
#include "tests/sockets/socket_client.h"
#include "tests/sockets/socket_join.h"
#include "tests/wait_until.h"

namespace ipnfs::tests {
namespace {

class SocketInputTest : public MountedTest {
 protected:
  void SetUp() override {
    MountedTest::SetUp();
    if (HasFailure()) return;
    ASSERT_EQ(::mknod(Net().c_str(), S_IFREG | 0666, 0), 0);
    file_ = Open(Net(), O_RDWR);
    ASSERT_TRUE(file_.valid());
  }

  std::string Net() const { return daemon_->PathOf("net"); }
  // A connection admitted as a port.
  SocketClient Join(SocketKind kind) { return JoinSocket(daemon_->path(), kind, "net"); }
  // Success when a packet from `client` still reaches the file, and one from the file reaches it.
  ::testing::AssertionResult StillWorks(SocketClient& client) {
    const std::string up = absl::StrCat("up from ", NameOf(client.kind()));
    const IoResult sent = client.Send(up);
    if (sent.error != 0) return ::testing::AssertionFailure() << std::strerror(sent.error);
    const IoResult got = Receive(file_.get());
    if (got.bytes != up) return ::testing::AssertionFailure() << "the file got " << got.bytes;
    if (Send(file_.get(), "down").error != 0) return ::testing::AssertionFailure() << "write";
    // What other connections sent meanwhile may come first.
    for (IoResult back = client.Receive(); back.bytes != "down"; back = client.Receive()) {
      if (back.error != 0 || back.count == 0) {
        return ::testing::AssertionFailure() << "nothing from the file: " << back.error;
      }
    }
    return ::testing::AssertionSuccess();
  }
  int64_t Stat(const std::string& name) { return StatsOf(Net())[name]; }

  Fd file_;
};

TEST_F(SocketInputTest, StreamLengthZeroClosesThatConnectionAfterTheFramesBeforeIt) {
  SocketClient bad = Join(SocketKind::kStream);
  SocketClient good = Join(SocketKind::kStream);
  SocketClient other = Join(SocketKind::kSeqpacket);
  ASSERT_THAT(bad.SendRaw(StreamFrame("before") + LengthPrefix(0) + StreamFrame("after")),
              Wrote(10 + 4 + 9));
  EXPECT_THAT(Receive(file_.get()), IsPacket("before"));
  EXPECT_THAT(bad.Receive(), IsClosed()) << "a zero length did not close the connection";
  EXPECT_THAT(Receive(file_.get(), absl::Milliseconds(300)), FailsWith(ETIMEDOUT))
      << "a frame after the bad one went through";
  EXPECT_EQ(Stat("bad_frames"), 1);
  EXPECT_TRUE(WaitUntil([&] { return Stat("ports") == 3; })) << "the closed one is still a port";
  EXPECT_THAT(good.Receive(), IsPacket("before"));
  EXPECT_THAT(other.Receive(), IsPacket("before"));
  EXPECT_TRUE(StillWorks(good));
  EXPECT_TRUE(StillWorks(other));
}

TEST_F(SocketInputTest, StreamLengthAboveTheMtuClosesThatConnection) {
  ASSERT_EQ(SetXattr(Net(), "user.ipn.mtu", "1500"), 0);
  SocketClient good = Join(SocketKind::kStream);
  const std::string largest(1500, 'x');
  ASSERT_THAT(good.Send(largest), Wrote(1500));
  EXPECT_THAT(Receive(file_.get()), IsPacket(largest)) << "a frame of exactly the MTU";

  SocketClient bad = Join(SocketKind::kStream);
  ASSERT_THAT(bad.SendRaw(LengthPrefix(1501) + std::string(1501, 'y')), Wrote(1505));
  EXPECT_THAT(bad.Receive(), IsClosed());
  EXPECT_EQ(Stat("bad_frames"), 1);
  SocketClient huge = Join(SocketKind::kStream);
  ASSERT_THAT(huge.SendRaw(LengthPrefix(0xffffffff) + "zzzz"), Wrote(8));
  EXPECT_THAT(huge.Receive(), IsClosed());
  EXPECT_EQ(Stat("bad_frames"), 2);
  EXPECT_THAT(Receive(file_.get(), absl::Milliseconds(300)), FailsWith(ETIMEDOUT));
  EXPECT_EQ(Stat("drops_too_big"), 0) << "a closed connection is not a dropped packet";
  EXPECT_TRUE(StillWorks(good));
}

TEST_F(SocketInputTest, PartialFrameAtTheEndOfAStreamIsDiscarded) {
  SocketClient partial_body = Join(SocketKind::kStream);
  ASSERT_THAT(partial_body.SendRaw(StreamFrame("whole") + LengthPrefix(100) + std::string(50, 'p')),
              Wrote(9 + 4 + 50));
  EXPECT_THAT(Receive(file_.get()), IsPacket("whole"));
  partial_body.Close();
  SocketClient partial_header = Join(SocketKind::kStream);
  ASSERT_THAT(partial_header.SendRaw(std::string("\0\0", 2)), Wrote(2));
  partial_header.Close();
  EXPECT_TRUE(WaitUntil([&] { return Stat("ports") == 1; })) << "a closed connection stays a port";
  EXPECT_THAT(Receive(file_.get(), absl::Milliseconds(300)), FailsWith(ETIMEDOUT))
      << "a partial frame was delivered";
  EXPECT_EQ(Stat("packets_sent"), 1);
  SocketClient next = Join(SocketKind::kStream);
  EXPECT_TRUE(StillWorks(next));
}

TEST_F(SocketInputTest, SeqpacketMessageAboveTheMtuIsDroppedAndTheConnectionStays) {
  ASSERT_EQ(SetXattr(Net(), "user.ipn.mtu", "1500"), 0);
  SocketClient client = Join(SocketKind::kSeqpacket);
  SocketClient other = Join(SocketKind::kStream);
  ASSERT_THAT(client.Send(std::string(1501, 'b')), Wrote(1501));
  EXPECT_TRUE(WaitUntil([&] { return Stat("drops_too_big") == 1; }))
      << "drops_too_big is " << Stat("drops_too_big");
  EXPECT_THAT(Receive(file_.get(), absl::Milliseconds(300)), FailsWith(ETIMEDOUT));
  EXPECT_THAT(other.Receive(absl::Milliseconds(100)), FailsWith(ETIMEDOUT));
  const std::string largest(1500, 'g');
  ASSERT_THAT(client.Send(largest), Wrote(1500));
  EXPECT_THAT(Receive(file_.get()), IsPacket(largest)) << "the connection did not stay";
  EXPECT_THAT(other.Receive(), IsPacket(largest));
  EXPECT_TRUE(StillWorks(client));
  EXPECT_EQ(Stat("bad_frames"), 0);
}

TEST_F(SocketInputTest, EmptySeqpacketMessageIsDroppedAndCountedAndTheConnectionStays) {
  SocketClient client = Join(SocketKind::kSeqpacket);
  ASSERT_THAT(client.Send(""), Wrote(0));
  EXPECT_TRUE(WaitUntil([&] { return Stat("bad_frames") == 1; }))
      << "bad_frames is " << Stat("bad_frames");
  EXPECT_THAT(Receive(file_.get(), absl::Milliseconds(300)), FailsWith(ETIMEDOUT))
      << "an empty packet was delivered";
  ASSERT_THAT(client.Send("after"), Wrote(5));
  EXPECT_THAT(Receive(file_.get()), IsPacket("after")) << "the connection did not stay";
  EXPECT_TRUE(StillWorks(client));
}

TEST_F(SocketInputTest, SeqpacketMessageAboveTheDefaultMtuIsDroppedAndCounted) {
  SocketClient client = Join(SocketKind::kSeqpacket);
  ASSERT_THAT(client.Send(std::string(kMtu + 1, 'b')), Wrote(kMtu + 1));
  EXPECT_TRUE(WaitUntil([&] { return Stat("drops_too_big") == 1; }))
      << "drops_too_big is " << Stat("drops_too_big");
  EXPECT_THAT(Receive(file_.get(), absl::Milliseconds(300)), FailsWith(ETIMEDOUT))
      << "an oversized message (or a truncated piece of it) was delivered";
  EXPECT_TRUE(StillWorks(client));
}

}  // namespace
}  // namespace ipnfs::tests
