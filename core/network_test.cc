// Tests for Network and Port through their public contract, with the hub policy and tiny fake
// waiters that record what the core did to them.
#include "core/network.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "core/errno_status.h"
#include "core/port.h"
#include "core/waiters.h"
#include "policies/anycast_policy.h"
#include "policies/frame_builder.h"
#include "policies/hub_policy.h"

namespace ipnfs {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);
constexpr size_t kBigBuffer = 1 << 20;

// What happened to one read request. Owned by the test; the fake waiter only points at it, since
// the core owns (and destroys) the waiter itself. Declared before the ports, so that it outlives
// any waiter a port still holds when the test ends.
struct ReadOutcome {
  int completions = 0;
  int failures = 0;
  std::vector<uint8_t> bytes;      // What the reader got, at most max_bytes().
  const Packet* packet = nullptr;  // Which packet completed it.
  int error_number = 0;
  // Filled only by readers that probe the network lock while being completed.
  bool network_was_unlocked = false;
  std::future<void> probe;

  int calls() const { return completions + failures; }
  bool pending() const { return calls() == 0; }
};

enum class Reader { kWaiting, kGaveUp };

// True when another thread can take `network`'s lock right now. When it cannot, the probe is left
// running in `probe` (it finishes once the lock is released, keeping the network alive until
// then) so that the caller does not block.
bool LockIsFree(std::shared_ptr<const Network> network, std::future<void>& probe) {
  probe = std::async(std::launch::async, [network] { network->stats(); });
  return probe.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
}

class FakeReadWaiter final : public ReadWaiter {
 public:
  FakeReadWaiter(uint64_t id, size_t max_bytes, ReadOutcome& outcome, Reader reader,
                 std::shared_ptr<const Network> probe_lock_of)
      : ReadWaiter(id, max_bytes),
        outcome_(outcome),
        abandoned_(reader == Reader::kGaveUp),
        probe_lock_of_(std::move(probe_lock_of)) {}

  bool Abandoned() const override { return abandoned_; }

  void Complete(const Packet& packet) override {
    ++outcome_.completions;
    absl::Span<const uint8_t> bytes = packet.bytes();
    const size_t n = std::min(bytes.size(), max_bytes());
    outcome_.bytes.assign(bytes.begin(), bytes.begin() + n);
    outcome_.packet = &packet;
    if (probe_lock_of_ != nullptr) {
      outcome_.network_was_unlocked = LockIsFree(probe_lock_of_, outcome_.probe);
    }
  }

  void Fail(int error_number) override {
    ++outcome_.failures;
    outcome_.error_number = error_number;
  }

 private:
  ReadOutcome& outcome_;
  const bool abandoned_;
  const std::shared_ptr<const Network> probe_lock_of_;  // Null: no probe.
};

std::unique_ptr<ReadWaiter> Read(ReadOutcome& outcome, uint64_t id = 1,
                                 size_t max_bytes = kBigBuffer) {
  return std::make_unique<FakeReadWaiter>(id, max_bytes, outcome, Reader::kWaiting, nullptr);
}

std::unique_ptr<ReadWaiter> AbandonedRead(ReadOutcome& outcome, uint64_t id = 1) {
  return std::make_unique<FakeReadWaiter>(id, kBigBuffer, outcome, Reader::kGaveUp, nullptr);
}

// What happened to one write request parked under flow control.
struct SendOutcome {
  int completions = 0;
  int failures = 0;
  int error_number = 0;

  int calls() const { return completions + failures; }
  bool pending() const { return calls() == 0; }
};

class FakeSendWaiter final : public SendWaiter {
 public:
  FakeSendWaiter(uint64_t id, SendOutcome& outcome) : SendWaiter(id), outcome_(outcome) {}
  bool Abandoned() const override { return false; }
  void Complete() override { ++outcome_.completions; }
  void Fail(int error_number) override {
    ++outcome_.failures;
    outcome_.error_number = error_number;
  }

 private:
  SendOutcome& outcome_;
};

std::unique_ptr<SendWaiter> Write(SendOutcome& outcome, uint64_t id = 1) {
  return std::make_unique<FakeSendWaiter>(id, outcome);
}

// What happened to one poll registration. Declared before the ports, like ReadOutcome.
struct PollOutcome {
  int notifications = 0;
  bool destroyed = false;
  bool network_was_unlocked = false;
  std::future<void> probe;
};

class FakePollWaiter final : public PollWaiter {
 public:
  FakePollWaiter(PollOutcome& outcome, std::shared_ptr<const Network> probe_lock_of)
      : outcome_(outcome), probe_lock_of_(std::move(probe_lock_of)) {}
  ~FakePollWaiter() override { outcome_.destroyed = true; }

  void Notify() override {
    ++outcome_.notifications;
    if (probe_lock_of_ != nullptr) {
      outcome_.network_was_unlocked = LockIsFree(probe_lock_of_, outcome_.probe);
    }
  }

 private:
  PollOutcome& outcome_;
  const std::shared_ptr<const Network> probe_lock_of_;  // Null: no probe.
};

std::unique_ptr<PollWaiter> Watch(PollOutcome& outcome) {
  return std::make_unique<FakePollWaiter>(outcome, nullptr);
}

NetworkConfig Config(Flow flow, size_t qlen, size_t mtu = 1500,
                     absl::Duration stall = absl::Minutes(10)) {
  NetworkConfig config;
  config.flow = flow;
  config.qlen = qlen;
  config.mtu = mtu;
  config.stall = stall;
  return config;
}

std::shared_ptr<Network> NewHub(NetworkConfig config = NetworkConfig{}) {
  return Network::Create(std::make_unique<HubPolicy>(), config);
}

// Joins at `now`; a refused join fails the test (and the null port then crashes it).
std::unique_ptr<Port> JoinAs(Network& network, PortMode mode, absl::Time now = kStart) {
  absl::StatusOr<std::unique_ptr<Port>> port = network.Join(mode, PortOwner{}, now);
  EXPECT_TRUE(port.ok()) << port.status();
  return port.ok() ? *std::move(port) : nullptr;
}

const std::vector<uint8_t> kPacket = {0xde, 0xad, 0xbe, 0xef};

// Reads one packet without blocking; the outcome tells what happened.
ReadOutcome ReadNow(Port& port, size_t max_bytes = kBigBuffer) {
  ReadOutcome outcome;
  port.Receive(Read(outcome, 1, max_bytes), /*nonblocking=*/true);
  return outcome;
}

TEST(Network, HubDeliversAPacketToEveryOtherReceiverExactlyOnce) {
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSendReceive);
  std::vector<std::unique_ptr<Port>> receivers;
  for (int i = 0; i < 3; ++i) receivers.push_back(JoinAs(*network, PortMode::kReceive));

  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());

  for (auto& receiver : receivers) {
    ReadOutcome first = ReadNow(*receiver);
    EXPECT_EQ(first.completions, 1);
    EXPECT_EQ(first.bytes, kPacket);
    ReadOutcome second = ReadNow(*receiver);
    EXPECT_EQ(second.completions, 0);
    EXPECT_EQ(second.error_number, EAGAIN);
  }
  ReadOutcome own = ReadNow(*sender);
  EXPECT_EQ(own.completions, 0);
  EXPECT_EQ(own.error_number, EAGAIN);
}

TEST(Network, SendOnlyPortNeverReceives) {
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSendReceive);
  auto send_only = JoinAs(*network, PortMode::kSend);

  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());

  EXPECT_EQ(send_only->queued(), 0u);
  ReadOutcome read = ReadNow(*send_only);
  EXPECT_EQ(read.completions, 0);
  EXPECT_EQ(read.failures, 1);
  EXPECT_EQ(send_only->counters().packets_in, 0u);
}

TEST(Network, ReceiveOnlyPortCannotSend) {
  auto network = NewHub();
  auto receive_only = JoinAs(*network, PortMode::kReceive);
  auto other = JoinAs(*network, PortMode::kReceive);

  EXPECT_EQ(StatusToErrno(receive_only->Send(kPacket, kStart)), EBADF);

  EXPECT_EQ(other->queued(), 0u);
  EXPECT_EQ(network->stats().packets_sent, 0u);
}

TEST(Network, PacketLargerThanTheMtuIsRefusedAndCounted) {
  auto network = NewHub(Config(Flow::kDrop, /*qlen=*/8, /*mtu=*/4));
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);

  const std::vector<uint8_t> too_big(5, 0x42);
  EXPECT_EQ(StatusToErrno(sender->Send(too_big, kStart)), EMSGSIZE);

  EXPECT_EQ(receiver->queued(), 0u);
  EXPECT_EQ(network->stats().drops_too_big, 1u);
  EXPECT_EQ(network->stats().packets_sent, 0u);
}

TEST(Network, PacketOfExactlyTheMtuIsSent) {
  auto network = NewHub(Config(Flow::kDrop, /*qlen=*/8, /*mtu=*/4));
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);

  EXPECT_TRUE(sender->Send(kPacket, kStart).ok());

  EXPECT_EQ(ReadNow(*receiver).bytes, kPacket);
  EXPECT_EQ(network->stats().drops_too_big, 0u);
}

TEST(Network, EmptyPacketSendsNothing) {
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);

  EXPECT_TRUE(sender->Send({}, kStart).ok());

  EXPECT_EQ(receiver->queued(), 0u);
  EXPECT_EQ(network->stats().packets_sent, 0u);
  EXPECT_EQ(network->last_send(), absl::InfinitePast());
}

TEST(Network, ParkedReadIsCompletedByALaterSend) {
  ReadOutcome read;
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);

  receiver->Receive(Read(read), /*nonblocking=*/false);
  ASSERT_TRUE(read.pending());
  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());

  EXPECT_EQ(read.completions, 1);
  EXPECT_EQ(read.failures, 0);
  EXPECT_EQ(read.bytes, kPacket);
  EXPECT_EQ(receiver->queued(), 0u);
}

TEST(Network, NonblockingReadWithNothingQueuedFailsWithEagain) {
  auto network = NewHub();
  auto receiver = JoinAs(*network, PortMode::kReceive);

  ReadOutcome read = ReadNow(*receiver);

  EXPECT_EQ(read.failures, 1);
  EXPECT_EQ(read.completions, 0);
  EXPECT_EQ(read.error_number, EAGAIN);
}

TEST(Network, AbandonedReadFailsWithEintrAndIsNotParked) {
  ReadOutcome read;
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);

  receiver->Receive(AbandonedRead(read), /*nonblocking=*/false);
  EXPECT_EQ(read.failures, 1);
  EXPECT_EQ(read.error_number, EINTR);

  // Not parked: the next packet waits in the queue instead of going to the abandoned read.
  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());
  EXPECT_EQ(read.calls(), 1);
  EXPECT_EQ(receiver->queued(), 1u);
}

TEST(Network, CancelReadFailsTheParkedReadWithEintr) {
  ReadOutcome read;
  auto network = NewHub();
  auto receiver = JoinAs(*network, PortMode::kReceive);
  receiver->Receive(Read(read, /*id=*/7), /*nonblocking=*/false);
  ASSERT_TRUE(read.pending());

  receiver->Cancel(7);

  EXPECT_EQ(read.failures, 1);
  EXPECT_EQ(read.completions, 0);
  EXPECT_EQ(read.error_number, EINTR);
}

TEST(Network, PacketAfterACancelledReadGoesToTheNextReader) {
  ReadOutcome cancelled, next;
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);
  receiver->Receive(Read(cancelled, /*id=*/1), /*nonblocking=*/false);
  receiver->Receive(Read(next, /*id=*/2), /*nonblocking=*/false);

  receiver->Cancel(1);
  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());

  EXPECT_EQ(cancelled.completions, 0);
  EXPECT_EQ(cancelled.calls(), 1);
  EXPECT_EQ(next.completions, 1);
  EXPECT_EQ(next.bytes, kPacket);
}

TEST(Network, PacketAfterTheOnlyReadWasCancelledIsQueuedNotLost) {
  ReadOutcome cancelled;
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);
  receiver->Receive(Read(cancelled, /*id=*/1), /*nonblocking=*/false);

  receiver->Cancel(1);
  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());

  EXPECT_EQ(cancelled.completions, 0);
  EXPECT_EQ(ReadNow(*receiver).bytes, kPacket);
}

TEST(Network, CancelReadOfAnUnknownIdDoesNothing) {
  ReadOutcome read;
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);
  receiver->Receive(Read(read, /*id=*/1), /*nonblocking=*/false);

  receiver->Cancel(99);
  EXPECT_TRUE(read.pending());

  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());
  EXPECT_EQ(read.completions, 1);
  EXPECT_EQ(read.failures, 0);
}

TEST(Network, CancelReadAfterTheReadCompletedDoesNothing) {
  ReadOutcome read;
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);
  receiver->Receive(Read(read, /*id=*/1), /*nonblocking=*/false);
  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());
  ASSERT_EQ(read.completions, 1);

  receiver->Cancel(1);

  EXPECT_EQ(read.calls(), 1);
  EXPECT_EQ(read.failures, 0);
}

TEST(Network, FullQueueDropsTheNewPacketForThatReceiverOnly) {
  auto network = NewHub(Config(Flow::kDrop, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend);
  auto full = JoinAs(*network, PortMode::kReceive);
  auto roomy = JoinAs(*network, PortMode::kReceive);
  const std::vector<uint8_t> first = {1}, second = {2};
  ASSERT_TRUE(sender->Send(first, kStart).ok());
  ASSERT_EQ(ReadNow(*roomy).bytes, first);  // `roomy` makes room; `full` does not.

  EXPECT_TRUE(sender->Send(second, kStart).ok());

  EXPECT_EQ(full->counters().dropped, 1u);
  EXPECT_EQ(network->stats().drops_queue_full, 1u);
  EXPECT_EQ(ReadNow(*full).bytes, first);  // The queued packet is kept, the new one dropped.
  EXPECT_EQ(ReadNow(*full).completions, 0);
  EXPECT_EQ(roomy->counters().dropped, 0u);
  EXPECT_EQ(ReadNow(*roomy).bytes, second);
}

TEST(Network, QueuedPacketReadIntoAShortBufferGivesTheFirstBytesAndCountsATruncation) {
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);
  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());

  ReadOutcome read = ReadNow(*receiver, /*max_bytes=*/2);

  EXPECT_EQ(read.bytes, std::vector<uint8_t>({0xde, 0xad}));
  EXPECT_EQ(receiver->counters().truncated, 1u);
  EXPECT_EQ(network->stats().drops_truncated, 1u);
}

TEST(Network, ParkedReadWithAShortBufferGivesTheFirstBytesAndCountsATruncation) {
  ReadOutcome read;
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);
  receiver->Receive(Read(read, /*id=*/1, /*max_bytes=*/3), /*nonblocking=*/false);

  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());

  EXPECT_EQ(read.bytes, std::vector<uint8_t>({0xde, 0xad, 0xbe}));
  EXPECT_EQ(receiver->counters().truncated, 1u);
  EXPECT_EQ(network->stats().drops_truncated, 1u);
}

TEST(Network, ReadIntoABufferOfExactlyThePacketSizeIsNotTruncated) {
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);
  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());

  ReadOutcome read = ReadNow(*receiver, /*max_bytes=*/kPacket.size());

  EXPECT_EQ(read.bytes, kPacket);
  EXPECT_EQ(receiver->counters().truncated, 0u);
  EXPECT_EQ(network->stats().drops_truncated, 0u);
}

TEST(Network, PollIsReadableOnlyWhileAPacketIsQueued) {
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);

  EXPECT_FALSE(receiver->Poll(nullptr).readable);
  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());
  EXPECT_TRUE(receiver->Poll(nullptr).readable);
  ASSERT_EQ(ReadNow(*receiver).completions, 1);
  EXPECT_FALSE(receiver->Poll(nullptr).readable);
}

TEST(Network, SendingPortIsAlwaysWritableWhenFullQueuesDrop) {
  auto network = NewHub(Config(Flow::kDrop, /*qlen=*/1));
  auto send_receive = JoinAs(*network, PortMode::kSendReceive);
  auto send_only = JoinAs(*network, PortMode::kSend);
  auto receive_only = JoinAs(*network, PortMode::kReceive);

  EXPECT_TRUE(send_receive->Poll(nullptr).writable);
  EXPECT_TRUE(send_only->Poll(nullptr).writable);
  // Still writable when the receivers' queues are full: the next packet is dropped, not held.
  ASSERT_TRUE(send_only->Send(kPacket, kStart).ok());
  ASSERT_TRUE(send_only->Send(kPacket, kStart).ok());
  ASSERT_EQ(receive_only->queued(), 1u);
  EXPECT_TRUE(send_only->Poll(nullptr).writable);
  EXPECT_TRUE(send_receive->Poll(nullptr).writable);
}

TEST(Network, PollWaiterIsNotifiedOnceWhenAPacketIsQueued) {
  PollOutcome poll;
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);

  EXPECT_FALSE(receiver->Poll(Watch(poll)).readable);
  EXPECT_EQ(poll.notifications, 0);
  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());
  EXPECT_EQ(poll.notifications, 1);
  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());
  EXPECT_EQ(poll.notifications, 1);
}

TEST(Network, NewPollWaiterReplacesTheOldOne) {
  PollOutcome old_poll, new_poll;
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);
  receiver->Poll(Watch(old_poll));

  receiver->Poll(Watch(new_poll));
  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());

  EXPECT_EQ(old_poll.notifications, 0);
  EXPECT_TRUE(old_poll.destroyed);
  EXPECT_EQ(new_poll.notifications, 1);
}

TEST(Network, DestroyingAPortFailsItsParkedReadWithEbadf) {
  ReadOutcome read;
  auto network = NewHub();
  auto receiver = JoinAs(*network, PortMode::kReceive);
  receiver->Receive(Read(read), /*nonblocking=*/false);
  ASSERT_TRUE(read.pending());

  receiver.reset();

  EXPECT_EQ(read.failures, 1);
  EXPECT_EQ(read.completions, 0);
  EXPECT_EQ(read.error_number, EBADF);
}

TEST(Network, DestroyedPortLeavesTheNetwork) {
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto staying = JoinAs(*network, PortMode::kReceive);
  auto leaving = JoinAs(*network, PortMode::kReceive);
  ASSERT_EQ(network->stats().ports, 3u);

  leaving.reset();
  EXPECT_EQ(network->stats().ports, 2u);

  // Only the port that stayed is still a destination.
  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());
  EXPECT_EQ(ReadNow(*staying).completions, 1);
  EXPECT_EQ(network->stats().packets_received, 1u);
  EXPECT_EQ(network->stats().drops_queue_full, 0u);
}

TEST(Network, NetworkOutlivesTheCallersReferenceWhileAPortHoldsIt) {
  auto network = NewHub();
  std::weak_ptr<Network> watch = network;
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);

  network.reset();
  ASSERT_FALSE(watch.expired());
  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());
  EXPECT_EQ(ReadNow(*receiver).bytes, kPacket);
  EXPECT_EQ(&receiver->network(), watch.lock().get());

  sender.reset();
  EXPECT_FALSE(watch.expired());
  receiver.reset();
  EXPECT_TRUE(watch.expired());
}

TEST(Network, ReceiversShareOnePacketInsteadOfCopies) {
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto a = JoinAs(*network, PortMode::kReceive);
  auto b = JoinAs(*network, PortMode::kReceive);
  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());

  // `b`'s queue keeps its packet alive while `a` reads, so distinct copies would have distinct
  // addresses.
  ReadOutcome from_a = ReadNow(*a);
  ReadOutcome from_b = ReadNow(*b);

  ASSERT_NE(from_a.packet, nullptr);
  EXPECT_EQ(from_a.packet, from_b.packet);
}

TEST(Network, StatsCountPacketsAndBytesSentAndReceived) {
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto a = JoinAs(*network, PortMode::kReceive);
  auto b = JoinAs(*network, PortMode::kReceive);
  const std::vector<uint8_t> three(3, 1), five(5, 2);

  ASSERT_TRUE(sender->Send(three, kStart).ok());
  ASSERT_TRUE(sender->Send(five, kStart).ok());
  for (Port* port : {a.get(), b.get()}) {
    ASSERT_EQ(ReadNow(*port).completions, 1);
    ASSERT_EQ(ReadNow(*port).completions, 1);
  }

  const NetworkStats stats = network->stats();
  EXPECT_EQ(stats.ports, 3u);
  EXPECT_EQ(stats.packets_sent, 2u);
  EXPECT_EQ(stats.bytes_sent, 8u);
  EXPECT_EQ(stats.packets_received, 4u);
  EXPECT_EQ(stats.bytes_received, 16u);
  EXPECT_EQ(sender->counters().packets_out, 2u);
  EXPECT_EQ(sender->counters().bytes_out, 8u);
  EXPECT_EQ(a->counters().packets_in, 2u);
  EXPECT_EQ(a->counters().bytes_in, 8u);
}

TEST(Network, LastSendIsTheTimeOfTheLatestPacketSent) {
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);
  EXPECT_EQ(network->last_send(), absl::InfinitePast());

  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());
  EXPECT_EQ(network->last_send(), kStart);
  ASSERT_TRUE(sender->Send(kPacket, kStart + absl::Seconds(30)).ok());
  EXPECT_EQ(network->last_send(), kStart + absl::Seconds(30));
}

TEST(Network, ReadIsCompletedWithTheNetworkUnlocked) {
  ReadOutcome read;
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);
  receiver->Receive(
      std::make_unique<FakeReadWaiter>(1, kBigBuffer, read, Reader::kWaiting, network),
      /*nonblocking=*/false);

  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());

  ASSERT_EQ(read.completions, 1);
  EXPECT_TRUE(read.network_was_unlocked);
}

TEST(Network, PollWaiterIsNotifiedWithTheNetworkUnlocked) {
  PollOutcome poll;
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);
  receiver->Poll(std::make_unique<FakePollWaiter>(poll, network));

  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());

  ASSERT_EQ(poll.notifications, 1);
  EXPECT_TRUE(poll.network_was_unlocked);
}

TEST(Network, JoinBeyondMaxPortsFailsWithEusersUntilAPortLeaves) {
  NetworkConfig config;
  config.max_ports = 2;
  auto network = NewHub(config);
  auto first = JoinAs(*network, PortMode::kSend);
  auto second = JoinAs(*network, PortMode::kReceive);

  EXPECT_EQ(StatusToErrno(network->Join(PortMode::kReceive, PortOwner{}, kStart).status()), EUSERS);

  second.reset();
  EXPECT_TRUE(network->Join(PortMode::kReceive, PortOwner{}, kStart).ok());
}

// ---- Offloads (GSO packets from taps) ----

constexpr uint8_t kAck = 0x10;
const Offload kTso4{.flags = Offload::kNeedsChecksum,
                    .gso_type = Offload::kGsoTcp4,
                    .gso_size = 1000,
                    .csum_start = 34,
                    .csum_offset = 16};

TEST(Network, OffloadedPacketReachesAPortThatAcceptsOffloadsUnchanged) {
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto tap = JoinAs(*network, PortMode::kReceive);
  tap->SetAcceptsOffloads(true);
  const std::vector<uint8_t> packet = Tcp4Packet(2500, kAck);

  ASSERT_TRUE(sender->Send(packet, kTso4, kStart).ok());

  std::vector<PacketRef> taken;
  ASSERT_EQ(tap->TakeQueued(8, taken), 1u);
  EXPECT_EQ(std::vector<uint8_t>(taken[0]->bytes().begin(), taken[0]->bytes().end()), packet);
  EXPECT_EQ(taken[0]->offload(), kTso4);
}

TEST(Network, OffloadedPacketReachesOtherPortsAndMonitorsAsSegments) {
  auto network = NewHub(Config(Flow::kDrop, /*qlen=*/16));
  auto sender = JoinAs(*network, PortMode::kSend);
  auto reader = JoinAs(*network, PortMode::kReceive);
  auto monitor = *network->JoinMonitor(PortOwner{}, kStart);

  ASSERT_TRUE(sender->Send(Tcp4Packet(2500, kAck), kTso4, kStart).ok());

  for (Port* port : {reader.get(), monitor.get()}) {
    std::vector<PacketRef> taken;
    ASSERT_EQ(port->TakeQueued(8, taken), 3u);
    EXPECT_EQ(taken[0]->size(), 14u + 40 + 1000);
    EXPECT_EQ(taken[2]->size(), 14u + 40 + 500);
    for (const PacketRef& frame : taken) EXPECT_TRUE(frame->offload().plain());
  }
  // Counted as the README says: one packet sent, each segment a receiver took as received.
  EXPECT_EQ(network->stats().packets_sent, 1u);
  EXPECT_EQ(network->stats().packets_received, 6u);
}

TEST(Network, MtuAppliesToTheSegmentsOfAnOffloadedPacket) {
  auto network = NewHub(Config(Flow::kDrop, /*qlen=*/16, /*mtu=*/1054));
  auto sender = JoinAs(*network, PortMode::kSend);
  auto reader = JoinAs(*network, PortMode::kReceive);
  const std::vector<uint8_t> packet = Tcp4Packet(2500, kAck);

  EXPECT_TRUE(sender->Send(packet, kTso4, kStart).ok());
  Offload bigger = kTso4;
  bigger.gso_size = 1001;
  EXPECT_EQ(StatusToErrno(sender->Send(packet, bigger, kStart)), EMSGSIZE);
  EXPECT_EQ(StatusToErrno(sender->Send(packet, kStart)), EMSGSIZE);
  EXPECT_EQ(reader->queued(), 3u);
}

TEST(Network, AdoptedPacketIsDeliveredWithoutACopy) {
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);
  std::unique_ptr<uint8_t[]> buffer(new uint8_t[8]{9, 9, 0xde, 0xad, 0xbe, 0xef, 9, 9});
  const uint8_t* bytes = buffer.get() + 2;

  ASSERT_TRUE(sender->SendPacket(Packet::Adopt(std::move(buffer), 2, 4, kStart), kStart).ok());

  std::vector<PacketRef> taken;
  ASSERT_EQ(receiver->TakeQueued(1, taken), 1u);
  EXPECT_EQ(taken[0]->bytes().data(), bytes);
  EXPECT_EQ(std::vector<uint8_t>(taken[0]->bytes().begin(), taken[0]->bytes().end()), kPacket);
}

TEST(Network, OffloadedPacketThatCannotBeSegmentedIsRefusedWithEinval) {
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto reader = JoinAs(*network, PortMode::kReceive);
  Offload udp = kTso4;
  udp.gso_type = Offload::kGsoUdpL4;

  EXPECT_EQ(StatusToErrno(sender->Send(Tcp4Packet(2500, kAck), udp, kStart)), EINVAL);
  EXPECT_EQ(reader->queued(), 0u);
}

const std::vector<uint8_t> kFirst = {1}, kSecond = {2}, kThird = {3};

// ---- Batched taking (Port::TakeQueued) ----

TEST(Network, TakeQueuedMovesAtMostTheAskedNumberOldestFirst) {
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);
  for (uint8_t i = 1; i <= 3; ++i) ASSERT_TRUE(sender->Send(std::vector<uint8_t>{i}, kStart).ok());
  std::vector<PacketRef> taken;

  EXPECT_EQ(receiver->TakeQueued(2, taken), 2u);

  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0]->bytes()[0], 1);
  EXPECT_EQ(taken[1]->bytes()[0], 2);
  EXPECT_EQ(receiver->queued(), 1u);
  EXPECT_EQ(receiver->counters().packets_in, 2u);
  EXPECT_EQ(ReadNow(*receiver).bytes, std::vector<uint8_t>{3});
}

TEST(Network, TakeQueuedOnAnEmptyQueueTakesNothing) {
  auto network = NewHub();
  auto receiver = JoinAs(*network, PortMode::kReceive);
  std::vector<PacketRef> taken;

  EXPECT_EQ(receiver->TakeQueued(8, taken), 0u);
  EXPECT_TRUE(taken.empty());
}

TEST(Network, TakeQueuedReleasesASenderWaitingUnderBlockFlow) {
  SendOutcome sent;
  const absl::Time now = absl::Now();
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());
  sender->Send(kSecond, now, Write(sent), /*nonblocking=*/false);
  ASSERT_TRUE(sent.pending());
  std::vector<PacketRef> taken;

  ASSERT_EQ(receiver->TakeQueued(1, taken), 1u);

  EXPECT_EQ(sent.completions, 1);
  EXPECT_EQ(ReadNow(*receiver).bytes, kSecond);
}

// ---- Flow control "block" ----
// The core reads the real clock in Receive() and Poll(), so these tests start at absl::Now() and
// use a long stall, so that no receiver counts as stalled unless a test says so.

TEST(Network, BlockFlowRefusesASendThatWouldOverflowAReceiverWithEagain) {
  const absl::Time now = absl::Now();
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());

  EXPECT_EQ(StatusToErrno(sender->Send(kSecond, now)), EAGAIN);

  EXPECT_EQ(network->stats().packets_sent, 1u);
  EXPECT_EQ(network->stats().drops_queue_full, 0u);
  EXPECT_EQ(ReadNow(*receiver).bytes, kFirst);
  EXPECT_EQ(ReadNow(*receiver).completions, 0);
}

TEST(Network, NonblockingSendUnderBlockFlowFailsItsWaiterWithEagain) {
  SendOutcome sent;
  const absl::Time now = absl::Now();
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());

  sender->Send(kSecond, now, Write(sent), /*nonblocking=*/true);

  EXPECT_EQ(sent.failures, 1);
  EXPECT_EQ(sent.error_number, EAGAIN);
  EXPECT_EQ(receiver->queued(), 1u);
}

TEST(Network, SendWithRoomCompletesItsWaiterAtOnce) {
  SendOutcome sent;
  const absl::Time now = absl::Now();
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);

  sender->Send(kFirst, now, Write(sent), /*nonblocking=*/false);

  EXPECT_EQ(sent.completions, 1);
  EXPECT_EQ(sent.failures, 0);
  EXPECT_EQ(ReadNow(*receiver).bytes, kFirst);
}

TEST(Network, ParkedSendGoesOnceTheReceiverReads) {
  SendOutcome sent;
  const absl::Time now = absl::Now();
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());

  sender->Send(kSecond, now, Write(sent), /*nonblocking=*/false);
  ASSERT_TRUE(sent.pending());
  ASSERT_EQ(ReadNow(*receiver).bytes, kFirst);

  EXPECT_EQ(sent.completions, 1);
  EXPECT_EQ(sent.failures, 0);
  EXPECT_EQ(ReadNow(*receiver).bytes, kSecond);
}

TEST(Network, ParkedSendsFromOneSenderAllGoInOrderAsTheReceiverReads) {
  SendOutcome second, third;
  const absl::Time now = absl::Now();
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());
  sender->Send(kSecond, now, Write(second, /*id=*/2), /*nonblocking=*/false);
  sender->Send(kThird, now, Write(third, /*id=*/3), /*nonblocking=*/false);
  ASSERT_TRUE(second.pending() && third.pending());

  ASSERT_EQ(ReadNow(*receiver).bytes, kFirst);
  EXPECT_EQ(second.completions, 1);
  EXPECT_TRUE(third.pending());
  EXPECT_EQ(ReadNow(*receiver).bytes, kSecond);
  EXPECT_EQ(third.completions, 1);
  EXPECT_EQ(ReadNow(*receiver).bytes, kThird);
}

TEST(Network, StalledReceiverDoesNotHoldBackSenders) {
  const absl::Time now = absl::Now();
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1, /*mtu=*/1500, /*stall=*/absl::Seconds(1)));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto stalled = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());

  // Two seconds later the receiver has read nothing: it is skipped, and the packet is dropped
  // for it alone.
  EXPECT_TRUE(sender->Send(kSecond, now + absl::Seconds(2)).ok());

  EXPECT_EQ(stalled->counters().dropped, 1u);
  EXPECT_EQ(network->stats().packets_sent, 2u);
}

TEST(Network, CancelledParkedSendFailsWithEintrAndSendsNothing) {
  SendOutcome sent;
  const absl::Time now = absl::Now();
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());
  sender->Send(kSecond, now, Write(sent, /*id=*/9), /*nonblocking=*/false);

  sender->Cancel(9);

  EXPECT_EQ(sent.failures, 1);
  EXPECT_EQ(sent.error_number, EINTR);
  EXPECT_EQ(ReadNow(*receiver).bytes, kFirst);
  EXPECT_EQ(ReadNow(*receiver).completions, 0);
  EXPECT_EQ(sent.calls(), 1);
  EXPECT_EQ(network->stats().packets_sent, 1u);
}

TEST(Network, DestroyingAPortFailsItsParkedSendWithEbadf) {
  SendOutcome sent;
  const absl::Time now = absl::Now();
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());
  sender->Send(kSecond, now, Write(sent), /*nonblocking=*/false);

  sender.reset();

  EXPECT_EQ(sent.failures, 1);
  EXPECT_EQ(sent.error_number, EBADF);
  EXPECT_EQ(ReadNow(*receiver).bytes, kFirst);
  EXPECT_EQ(ReadNow(*receiver).completions, 0);
}

TEST(Network, ParkedSendGoesWhenTheFullReceiverLeaves) {
  SendOutcome sent;
  const absl::Time now = absl::Now();
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto full = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());
  sender->Send(kSecond, now, Write(sent), /*nonblocking=*/false);
  ASSERT_TRUE(sent.pending());

  full.reset();

  EXPECT_EQ(sent.completions, 1);
}

TEST(Network, SwitchingToDropFlowReleasesAParkedSend) {
  SendOutcome sent;
  const absl::Time now = absl::Now();
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());
  sender->Send(kSecond, now, Write(sent), /*nonblocking=*/false);

  network->SetConfig(Config(Flow::kDrop, /*qlen=*/1), now);

  EXPECT_EQ(sent.completions, 1);
  EXPECT_EQ(receiver->counters().dropped, 1u);
}

TEST(Network, RaisingTheQueueLengthReleasesAParkedSend) {
  SendOutcome sent;
  const absl::Time now = absl::Now();
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());
  sender->Send(kSecond, now, Write(sent), /*nonblocking=*/false);

  network->SetConfig(Config(Flow::kBlock, /*qlen=*/2), now);

  EXPECT_EQ(sent.completions, 1);
  EXPECT_EQ(receiver->queued(), 2u);
}

TEST(Network, SenderHeldBackByAFullReceiverIsNotWritable) {
  const absl::Time now = absl::Now();
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Poll(nullptr).writable);

  ASSERT_TRUE(sender->Send(kFirst, now).ok());

  EXPECT_FALSE(sender->Poll(nullptr).writable);
}

// A nonblocking sender that got EAGAIN has nothing parked; only its poll waiter can wake it.
TEST(Network, SenderPollingForRoomIsNotifiedWhenTheReceiverReads) {
  PollOutcome poll;
  const absl::Time now = absl::Now();
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());
  ASSERT_EQ(StatusToErrno(sender->Send(kSecond, now)), EAGAIN);
  ASSERT_FALSE(sender->Poll(Watch(poll)).writable);

  ASSERT_EQ(ReadNow(*receiver).bytes, kFirst);

  EXPECT_EQ(poll.notifications, 1);
  EXPECT_TRUE(sender->Poll(nullptr).writable);
}

// ---- Anycast under flow control "block" ----
// The policy picks a worker with room; when none has room the packet waits, unrouted, and goes
// to whichever worker reads first.

std::shared_ptr<Network> NewAnycast(NetworkConfig config) {
  return Network::Create(std::make_unique<AnycastPolicy>(), config);
}

uint64_t CounterOf(const Network& network, absl::string_view name) {
  for (const auto& [counter, value] : network.stats().policy_counters) {
    if (counter == name) return value;
  }
  ADD_FAILURE() << "no counter " << name;
  return 0;
}

// An anycast network under flow control "block" with a queue of one packet: a producer and a
// worker whose queue already holds kFirst. Declare outcomes before it, so that they outlive it.
struct FullAnycastQueue {
  explicit FullAnycastQueue(Flow flow = Flow::kBlock, absl::Duration stall = absl::Minutes(10))
      : network(NewAnycast(Config(flow, /*qlen=*/1, /*mtu=*/1500, stall))),
        producer(JoinAs(*network, PortMode::kSend, now)),
        worker(JoinAs(*network, PortMode::kReceive, now)) {
    EXPECT_TRUE(producer->Send(kFirst, now).ok());
  }

  void ExpectTheWorkerHoldsOnlyTheFirstPacket() {
    EXPECT_EQ(ReadNow(*worker).bytes, kFirst);
    EXPECT_EQ(ReadNow(*worker).completions, 0);
  }

  // Joins another worker.
  std::unique_ptr<Port> JoinWorker() { return JoinAs(*network, PortMode::kReceive, now); }
  // A blocking send of `packet` whose waiter records into `sent`.
  void SendWaiting(const std::vector<uint8_t>& packet, SendOutcome& sent) {
    producer->Send(packet, now, Write(sent), /*nonblocking=*/false);
  }

  const absl::Time now = absl::Now();
  std::shared_ptr<Network> network;
  std::unique_ptr<Port> producer;
  std::unique_ptr<Port> worker;
};

TEST(Network, AnycastSendWaitsWhenNoWorkerHasRoomThenGoesToTheWorkerThatReads) {
  SendOutcome sent;
  FullAnycastQueue queue;
  auto second = queue.JoinWorker();
  ASSERT_TRUE(queue.producer->Send(kSecond, queue.now).ok());

  queue.SendWaiting(kThird, sent);
  ASSERT_TRUE(sent.pending());
  ASSERT_EQ(ReadNow(*second).bytes, kSecond);

  EXPECT_EQ(sent.completions, 1);
  EXPECT_EQ(ReadNow(*second).bytes, kThird);
  EXPECT_EQ(queue.worker->queued(), 1u);
  EXPECT_EQ(CounterOf(*queue.network, "anycast_no_room"), 0u);
  EXPECT_EQ(queue.network->stats().drops_queue_full, 0u);
}

TEST(Network, AnycastSendWithNoWorkerRoomFailsWithEagainWithoutWaiting) {
  SendOutcome sent;
  FullAnycastQueue queue;

  EXPECT_EQ(StatusToErrno(queue.producer->Send(kSecond, queue.now)), EAGAIN);
  queue.producer->Send(kSecond, queue.now, Write(sent), /*nonblocking=*/true);

  EXPECT_EQ(sent.error_number, EAGAIN);
  EXPECT_EQ(queue.network->stats().packets_sent, 1u);
  EXPECT_EQ(CounterOf(*queue.network, "anycast_no_room"), 0u);
  queue.ExpectTheWorkerHoldsOnlyTheFirstPacket();
}

TEST(Network, AnycastProducerIsWritableWhileAnyWorkerHasRoom) {
  PollOutcome poll;
  FullAnycastQueue queue;
  auto second = queue.JoinWorker();
  EXPECT_TRUE(queue.producer->Poll(nullptr).writable) << "the second worker has room";
  ASSERT_TRUE(queue.producer->Send(kSecond, queue.now).ok());
  ASSERT_FALSE(queue.producer->Poll(Watch(poll)).writable);

  ASSERT_EQ(ReadNow(*queue.worker).bytes, kFirst);  // The second worker is still full.

  EXPECT_EQ(poll.notifications, 1);
  EXPECT_TRUE(queue.producer->Poll(nullptr).writable);
}

TEST(Network, AnycastWaitingSendGoesToAWorkerThatJoins) {
  SendOutcome sent;
  FullAnycastQueue queue;
  queue.SendWaiting(kSecond, sent);
  ASSERT_TRUE(sent.pending());

  auto fresh = queue.JoinWorker();

  EXPECT_EQ(sent.completions, 1);
  EXPECT_EQ(ReadNow(*fresh).bytes, kSecond);
}

TEST(Network, AnycastWaitingSendIsDroppedAndCountedOnceEveryFullWorkerHasStalled) {
  SendOutcome sent;
  FullAnycastQueue queue(Flow::kBlock, /*stall=*/absl::Seconds(1));
  queue.SendWaiting(kSecond, sent);
  queue.network->Tick(queue.now + absl::Milliseconds(500));
  ASSERT_TRUE(sent.pending()) << "released before stall_ms";

  queue.network->Tick(queue.now + absl::Seconds(2));

  EXPECT_EQ(sent.completions, 1);
  EXPECT_EQ(CounterOf(*queue.network, "anycast_no_room"), 1u);
  queue.ExpectTheWorkerHoldsOnlyTheFirstPacket();
}

TEST(Network, AnycastWaitingSendIsCountedAsNoReceiverWhenTheLastWorkerLeaves) {
  SendOutcome sent;
  FullAnycastQueue queue;
  queue.SendWaiting(kSecond, sent);

  queue.worker.reset();

  EXPECT_EQ(sent.completions, 1);
  EXPECT_EQ(CounterOf(*queue.network, "anycast_no_receiver"), 1u);
}

TEST(Network, AnycastUnderDropFlowStillDropsAndCountsWhenNoWorkerHasRoom) {
  FullAnycastQueue queue(Flow::kDrop);

  EXPECT_TRUE(queue.producer->Send(kSecond, queue.now).ok());

  EXPECT_EQ(CounterOf(*queue.network, "anycast_no_room"), 1u);
  EXPECT_TRUE(queue.producer->Poll(nullptr).writable);
}

}  // namespace
}  // namespace ipnfs
