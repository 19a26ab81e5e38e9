// Integration tests of flow control with socket ports. A sender floods a reader that does not read
// (a socket that never receives, or a network file never read): under flow=drop the sender never
// waits and the reader's losses are counted (drops_queue_full), and a stuck socket never holds
// back the other ports; under flow=block the daemon stops reading the sender's connection, so its
// send() waits (or fails with EAGAIN under MSG_DONTWAIT), and once the reader drains, every
// sequence number arrives in order and nothing was lost.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
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

constexpr size_t kPacketSize = 1000;

// Packet `sequence` of a flood: its number first, padded to kPacketSize.
std::string Numbered(int sequence) {
  std::string packet = absl::StrFormat("seq %08d ", sequence);
  packet.resize(kPacketSize, '.');
  return packet;
}

// The sequence number of a flood packet, or -1.
int SequenceOf(const IoResult& result) {
  if (result.error != 0 || result.bytes.size() != kPacketSize ||
      result.bytes.rfind("seq ", 0) != 0) {
    return -1;
  }
  return std::atoi(result.bytes.c_str() + 4);
}

// A thread that sends packets 0..total-1 from `client` with blocking sends. Destroying it shuts
// the socket down, which ends a send the daemon still holds back, and joins the thread.
class Flood {
 public:
  Flood(SocketClient& client, int total) : client_(client), total_(total) {
    thread_ = std::thread([this] {
      for (int i = 0; i < total_; ++i) {
        if (client_.Send(Numbered(i)).error != 0) return;
        sent_.fetch_add(1);
      }
    });
  }
  ~Flood() {
    if (!Done(absl::ZeroDuration())) ::shutdown(client_.fd(), SHUT_RDWR);
    thread_.join();
  }

  int sent() const { return sent_.load(); }
  // True once every packet was sent, within `timeout`.
  bool Done(absl::Duration timeout) {
    return WaitUntil([&] { return sent() == total_; }, timeout);
  }
  // True when the sender stops making progress short of the end (it waits): no send returned
  // during 300 ms, within 5 s.
  bool Stalls() {
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (absl::Now() < deadline) {
      const int before = sent();
      absl::SleepFor(absl::Milliseconds(300));
      if (sent() == before && before < total_) return true;
    }
    return false;
  }

 private:
  SocketClient& client_;
  const int total_;
  std::atomic<int> sent_{0};
  std::thread thread_;
};

// A reader that does not read until told to drain: a socket or a network file.
class StuckReader {
 public:
  virtual ~StuckReader() = default;
  // Receives everything, one packet at a time, until nothing comes for `quiet`.
  virtual std::vector<int> Drain(absl::Duration quiet) = 0;
};

class StuckSocket : public StuckReader {
 public:
  explicit StuckSocket(SocketClient client) : client_(std::move(client)) {}
  std::vector<int> Drain(absl::Duration quiet) override {
    std::vector<int> sequences;
    for (IoResult got = client_.Receive(quiet); got.error == 0 && got.count > 0;
         got = client_.Receive(quiet)) {
      sequences.push_back(SequenceOf(got));
    }
    return sequences;
  }

 private:
  SocketClient client_;
};

class StuckFile : public StuckReader {
 public:
  explicit StuckFile(Fd fd) : fd_(std::move(fd)) {}
  std::vector<int> Drain(absl::Duration quiet) override {
    std::vector<int> sequences;
    for (IoResult got = Receive(fd_.get(), quiet); got.error == 0;
         got = Receive(fd_.get(), quiet)) {
      sequences.push_back(SequenceOf(got));
    }
    return sequences;
  }

 private:
  Fd fd_;
};

// 0, 1, ..., count-1.
std::vector<int> Sequence(int count) {
  std::vector<int> numbers(count);
  for (int i = 0; i < count; ++i) numbers[i] = i;
  return numbers;
}

bool StrictlyIncreasing(const std::vector<int>& numbers) {
  for (size_t i = 1; i < numbers.size(); ++i) {
    if (numbers[i] <= numbers[i - 1]) return false;
  }
  return numbers.empty() || numbers[0] >= 0;
}

enum class ReaderKind { kSocket, kFile };
using FlowParam = std::tuple<SocketKind, ReaderKind>;

class SocketFlowTest : public MountedTest, public ::testing::WithParamInterface<FlowParam> {
 protected:
  SocketKind kind() const { return std::get<0>(GetParam()); }
  bool socket_reader() const { return std::get<1>(GetParam()) == ReaderKind::kSocket; }
  std::string Face() const { return FacePath(daemon_->path(), kind(), "net"); }
  std::string Net() const { return daemon_->PathOf("net"); }

  void MakeNetwork(const std::string& flow, int qlen) {
    ASSERT_EQ(::mknod(Net().c_str(), S_IFREG | 0666, 0), 0);
    ASSERT_EQ(SetXattr(Net(), "user.ipn.flow", flow), 0);
    ASSERT_EQ(SetXattr(Net(), "user.ipn.qlen", std::to_string(qlen)), 0);
    ASSERT_EQ(SetXattr(Net(), "user.ipn.stall_ms", "60000"), 0);
  }
  // A connection admitted as a port.
  SocketClient Join(SocketKind kind) { return JoinSocket(daemon_->path(), kind, "net"); }
  std::unique_ptr<StuckReader> NewStuckReader() {
    if (socket_reader()) return std::make_unique<StuckSocket>(Join(kind()));
    return std::make_unique<StuckFile>(Open(Net(), O_RDONLY));
  }
};

TEST_P(SocketFlowTest, DropFlowNeverHoldsTheSenderAndCountsWhatTheStuckReaderLoses) {
  constexpr int kTotal = 5000;
  constexpr int kQlen = 8;
  ASSERT_NO_FATAL_FAILURE(MakeNetwork("drop", kQlen));
  std::unique_ptr<StuckReader> stuck = NewStuckReader();
  SocketClient sender = Join(kind());
  {
    Flood flood(sender, kTotal);
    EXPECT_TRUE(flood.Done(absl::Seconds(20)))
        << "the sender waited: " << flood.sent() << " of " << kTotal << " sent";
  }
  // Once the daemon has taken every packet in, each was either delivered or counted as lost.
  EXPECT_TRUE(WaitUntil([&] { return StatsOf(Net())["packets_sent"] == kTotal; }))
      << StatsOf(Net())["packets_sent"] << " of " << kTotal << " packets taken in";
  const std::vector<int> received = stuck->Drain(absl::Seconds(1));
  const int64_t dropped = StatsOf(Net())["drops_queue_full"];
  EXPECT_GT(dropped, 0);
  EXPECT_EQ(static_cast<int64_t>(received.size()) + dropped, kTotal);
  EXPECT_TRUE(StrictlyIncreasing(received)) << ::testing::PrintToString(received);
  if (!socket_reader()) {
    EXPECT_EQ(received, Sequence(kQlen)) << "a full queue keeps its first packets";
  }
}

TEST_P(SocketFlowTest, BlockFlowHoldsTheSenderBackUntilTheReaderDrainsThenLosesNothing) {
  constexpr int kTotal = 3000;
  ASSERT_NO_FATAL_FAILURE(MakeNetwork("block", 8));
  std::unique_ptr<StuckReader> stuck = NewStuckReader();
  SocketClient sender = Join(kind());
  Flood flood(sender, kTotal);
  ASSERT_TRUE(flood.Stalls()) << "the sender never waited: " << flood.sent() << " sent";
  const int held_at = flood.sent();
  const std::vector<int> received = stuck->Drain(absl::Seconds(3));
  EXPECT_TRUE(flood.Done(absl::Seconds(5))) << flood.sent() << " of " << kTotal << " sent";
  EXPECT_LT(held_at, kTotal);
  EXPECT_EQ(received, Sequence(kTotal));
  EXPECT_EQ(StatsOf(Net())["drops_queue_full"], 0);
}

std::string FlowName(const ::testing::TestParamInfo<FlowParam>& info) {
  return absl::StrCat(NameOf(std::get<0>(info.param)), "_to_",
                      std::get<1>(info.param) == ReaderKind::kSocket ? "socket" : "file");
}

INSTANTIATE_TEST_SUITE_P(
    EveryKindAndReader, SocketFlowTest,
    ::testing::Combine(::testing::Values(SocketKind::kSeqpacket, SocketKind::kStream),
                       ::testing::Values(ReaderKind::kSocket, ReaderKind::kFile)),
    FlowName);

using SocketFlowOtherPortsTest = SocketFlowTest;

TEST_P(SocketFlowOtherPortsTest, StuckReaderNeverHoldsBackTheOtherPorts) {
  constexpr int kBursts = 60, kBurst = 32;
  ASSERT_NO_FATAL_FAILURE(MakeNetwork("drop", 64));
  std::unique_ptr<StuckReader> stuck = NewStuckReader();
  SocketClient sender = Join(kind());
  SocketClient live_socket = Join(SocketKind::kSeqpacket);
  Fd live_file = Open(Net(), O_RDONLY);
  ASSERT_TRUE(live_file.valid());
  // The live readers keep up burst by burst; the stuck one fills, then loses packets.
  for (int burst = 0; burst < kBursts; ++burst) {
    for (int i = 0; i < kBurst; ++i) {
      ASSERT_THAT(sender.Send(Numbered(burst * kBurst + i)), Wrote(kPacketSize));
    }
    for (int i = 0; i < kBurst; ++i) {
      const int expected = burst * kBurst + i;
      ASSERT_EQ(SequenceOf(live_socket.Receive()), expected) << "the live socket";
      ASSERT_EQ(SequenceOf(Receive(live_file.get())), expected) << "the live file";
    }
  }
  EXPECT_GT(StatsOf(Net())["drops_queue_full"], 0) << "the stuck reader never filled up";
}

INSTANTIATE_TEST_SUITE_P(
    EveryKindAndReader, SocketFlowOtherPortsTest,
    ::testing::Combine(::testing::Values(SocketKind::kSeqpacket, SocketKind::kStream),
                       ::testing::Values(ReaderKind::kSocket, ReaderKind::kFile)),
    FlowName);

using SocketFlowStallTest = SocketFlowTest;

// stall_ms under flow=block: a socket that stopped reading holds the sender back for stall_ms,
// then loses packets instead of holding it back for good.
TEST_P(SocketFlowStallTest, StuckSocketHoldsTheSenderOnlyForStallMs) {
  constexpr int kTotal = 2000;
  ASSERT_NO_FATAL_FAILURE(MakeNetwork("block", 8));
  ASSERT_EQ(SetXattr(Net(), "user.ipn.stall_ms", "300"), 0);
  const std::unique_ptr<StuckReader> stuck = NewStuckReader();
  SocketClient sender = Join(kind());
  const absl::Time start = absl::Now();
  {
    Flood flood(sender, kTotal);
    EXPECT_TRUE(flood.Done(absl::Seconds(10))) << flood.sent() << " of " << kTotal << " sent";
  }
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(250)) << "the sender was never held back";
  EXPECT_TRUE(WaitUntil([&] { return StatsOf(Net())["packets_sent"] == kTotal; }));
  const int64_t dropped = StatsOf(Net())["drops_queue_full"];
  EXPECT_GT(dropped, 0) << "the stuck socket never lost a packet";
  const std::vector<int> received = stuck->Drain(absl::Seconds(1));
  EXPECT_EQ(static_cast<int64_t>(received.size()) + dropped, kTotal);
  EXPECT_TRUE(StrictlyIncreasing(received));
}

INSTANTIATE_TEST_SUITE_P(EveryKind, SocketFlowStallTest,
                         ::testing::Combine(::testing::Values(SocketKind::kSeqpacket,
                                                              SocketKind::kStream),
                                            ::testing::Values(ReaderKind::kSocket)),
                         FlowName);

using SocketFlowNonBlockingTest = SocketFlowTest;

// MSG_DONTWAIT on a seqpacket connection: each message is all or nothing, so a refused one can be
// sent again later.
TEST_P(SocketFlowNonBlockingTest, NonBlockingSenderGetsEagainThenEverythingArrivesInOrder) {
  ASSERT_NO_FATAL_FAILURE(MakeNetwork("block", 8));
  std::unique_ptr<StuckReader> stuck = NewStuckReader();
  SocketClient sender = Join(SocketKind::kSeqpacket);
  // The daemon reads on until the reader is full, then leaves the connection alone: its buffer
  // fills and a send fails with EAGAIN, for good. (An EAGAIN while the daemon still reads is
  // followed by room soon.)
  int sent = 0;
  bool held = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!held && sent < 100000 && absl::Now() < deadline) {
    const IoResult result = sender.Send(Numbered(sent), MSG_DONTWAIT);
    if (result.error == 0) {
      ++sent;
    } else if (result.error == EAGAIN) {
      // POLLOUT is no sign of room here (a Unix datagram socket reports it only once most of its
      // buffer is free): try again for 500 ms instead.
      held = !WaitUntil(
          [&] {
            if (sender.Send(Numbered(sent), MSG_DONTWAIT).error != 0) return false;
            ++sent;
            return true;
          },
          absl::Milliseconds(500));
    } else {
      FAIL() << "send " << sent << ": " << std::strerror(result.error);
    }
  }
  ASSERT_TRUE(held) << "the sender was never held back; " << sent << " packets sent";
  absl::SleepFor(absl::Milliseconds(300));  // The time the daemon would need to read on.
  EXPECT_THAT(sender.Send(Numbered(sent), MSG_DONTWAIT), FailsWith(EAGAIN))
      << "the daemon read on while the reader was full";
  const std::vector<int> received = stuck->Drain(absl::Seconds(2));
  EXPECT_EQ(received, Sequence(sent));
  EXPECT_THAT(sender.Send(Numbered(sent), MSG_DONTWAIT), Wrote(kPacketSize))
      << "still no room once the reader drained";
  EXPECT_EQ(StatsOf(Net())["drops_queue_full"], 0);
}

INSTANTIATE_TEST_SUITE_P(EveryReader, SocketFlowNonBlockingTest,
                         ::testing::Combine(::testing::Values(SocketKind::kSeqpacket),
                                            ::testing::Values(ReaderKind::kSocket,
                                                              ReaderKind::kFile)),
                         FlowName);

}  // namespace
}  // namespace ipnfs::tests
