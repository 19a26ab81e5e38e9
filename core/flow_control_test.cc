// Tests for flow control "block" (FlowControl) through the contract of Network and Port: senders
// held back by full receivers, parked sends, their release, and anycast's routing by room.
// (core/flow_control.h is private to the network library.)
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/errno_status.h"
#include "core/network.h"
#include "core/port.h"
#include "core/test_network.h"
#include "core/waiters.h"
#include "policies/anycast_policy.h"

namespace ipnfs::test_network {
namespace {

// ---- Flow control "block" ----
// These tests run at kStart (ReadNow reads then too) with a long stall, so that no receiver counts
// as stalled unless a test says so.

TEST(FlowControl, BlockFlowRefusesASendThatWouldOverflowAReceiverWithEagain) {
  const absl::Time now = kStart;
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

TEST(FlowControl, NonblockingSendUnderBlockFlowFailsItsWaiterWithEagain) {
  SendOutcome sent;
  const absl::Time now = kStart;
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());

  sender->Send(kSecond, now, Write(sent), Waiting::kNever);

  EXPECT_EQ(sent.failures, 1);
  EXPECT_EQ(sent.error_number, EAGAIN);
  EXPECT_EQ(receiver->queued(), 1u);
}

TEST(FlowControl, SendWithRoomCompletesItsWaiterAtOnce) {
  SendOutcome sent;
  const absl::Time now = kStart;
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);

  sender->Send(kFirst, now, Write(sent), Waiting::kPark);

  EXPECT_EQ(sent.completions, 1);
  EXPECT_EQ(sent.failures, 0);
  EXPECT_EQ(ReadNow(*receiver).bytes, kFirst);
}

TEST(FlowControl, ParkedSendGoesOnceTheReceiverReads) {
  SendOutcome sent;
  const absl::Time now = kStart;
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());

  sender->Send(kSecond, now, Write(sent), Waiting::kPark);
  ASSERT_TRUE(sent.pending());
  ASSERT_EQ(ReadNow(*receiver).bytes, kFirst);

  EXPECT_EQ(sent.completions, 1);
  EXPECT_EQ(sent.failures, 0);
  EXPECT_EQ(ReadNow(*receiver).bytes, kSecond);
}

TEST(FlowControl, ParkedSendsFromOneSenderAllGoInOrderAsTheReceiverReads) {
  SendOutcome second, third;
  const absl::Time now = kStart;
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());
  sender->Send(kSecond, now, Write(second, /*id=*/2), Waiting::kPark);
  sender->Send(kThird, now, Write(third, /*id=*/3), Waiting::kPark);
  ASSERT_TRUE(second.pending() && third.pending());

  ASSERT_EQ(ReadNow(*receiver).bytes, kFirst);
  EXPECT_EQ(second.completions, 1);
  EXPECT_TRUE(third.pending());
  EXPECT_EQ(ReadNow(*receiver).bytes, kSecond);
  EXPECT_EQ(third.completions, 1);
  EXPECT_EQ(ReadNow(*receiver).bytes, kThird);
}

TEST(FlowControl, StalledReceiverDoesNotHoldBackSenders) {
  const absl::Time now = kStart;
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

TEST(FlowControl, CancelledParkedSendFailsWithEintrAndSendsNothing) {
  SendOutcome sent;
  const absl::Time now = kStart;
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());
  sender->Send(kSecond, now, Write(sent, /*id=*/9), Waiting::kPark);

  sender->Cancel(9);

  EXPECT_EQ(sent.failures, 1);
  EXPECT_EQ(sent.error_number, EINTR);
  EXPECT_EQ(ReadNow(*receiver).bytes, kFirst);
  EXPECT_EQ(ReadNow(*receiver).completions, 0);
  EXPECT_EQ(sent.calls(), 1);
  EXPECT_EQ(network->stats().packets_sent, 1u);
}

TEST(FlowControl, DestroyingAPortFailsItsParkedSendWithEbadf) {
  SendOutcome sent;
  const absl::Time now = kStart;
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());
  sender->Send(kSecond, now, Write(sent), Waiting::kPark);

  sender.reset();

  EXPECT_EQ(sent.failures, 1);
  EXPECT_EQ(sent.error_number, EBADF);
  EXPECT_EQ(ReadNow(*receiver).bytes, kFirst);
  EXPECT_EQ(ReadNow(*receiver).completions, 0);
}

TEST(FlowControl, ParkedSendGoesWhenTheFullReceiverLeaves) {
  SendOutcome sent;
  const absl::Time now = kStart;
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto full = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());
  sender->Send(kSecond, now, Write(sent), Waiting::kPark);
  ASSERT_TRUE(sent.pending());

  full.reset();

  EXPECT_EQ(sent.completions, 1);
}

TEST(FlowControl, SwitchingToDropFlowReleasesAParkedSend) {
  SendOutcome sent;
  const absl::Time now = kStart;
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());
  sender->Send(kSecond, now, Write(sent), Waiting::kPark);

  network->SetConfig(Config(Flow::kDrop, /*qlen=*/1), now);

  EXPECT_EQ(sent.completions, 1);
  EXPECT_EQ(receiver->counters().dropped, 1u);
}

TEST(FlowControl, RaisingTheQueueLengthReleasesAParkedSend) {
  SendOutcome sent;
  const absl::Time now = kStart;
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());
  sender->Send(kSecond, now, Write(sent), Waiting::kPark);

  network->SetConfig(Config(Flow::kBlock, /*qlen=*/2), now);

  EXPECT_EQ(sent.completions, 1);
  EXPECT_EQ(receiver->queued(), 2u);
}

TEST(FlowControl, SenderHeldBackByAFullReceiverIsNotWritable) {
  const absl::Time now = kStart;
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Poll(nullptr, now).writable);

  ASSERT_TRUE(sender->Send(kFirst, now).ok());

  EXPECT_FALSE(sender->Poll(nullptr, now).writable);
}

// A nonblocking sender that got EAGAIN has nothing parked; only its poll waiter can wake it.
TEST(FlowControl, SenderPollingForRoomIsNotifiedWhenTheReceiverReads) {
  PollOutcome poll;
  const absl::Time now = kStart;
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());
  ASSERT_EQ(StatusToErrno(sender->Send(kSecond, now)), EAGAIN);
  ASSERT_FALSE(sender->Poll(Watch(poll), now).writable);

  ASSERT_EQ(ReadNow(*receiver).bytes, kFirst);

  EXPECT_EQ(poll.notifications, 1);
  EXPECT_TRUE(sender->Poll(nullptr, now).writable);
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
    producer->Send(packet, now, Write(sent), Waiting::kPark);
  }

  const absl::Time now = kStart;
  std::shared_ptr<Network> network;
  std::unique_ptr<Port> producer;
  std::unique_ptr<Port> worker;
};

TEST(FlowControl, AnycastSendWaitsWhenNoWorkerHasRoomThenGoesToTheWorkerThatReads) {
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

TEST(FlowControl, AnycastSendWithNoWorkerRoomFailsWithEagainWithoutWaiting) {
  SendOutcome sent;
  FullAnycastQueue queue;

  EXPECT_EQ(StatusToErrno(queue.producer->Send(kSecond, queue.now)), EAGAIN);
  queue.producer->Send(kSecond, queue.now, Write(sent), Waiting::kNever);

  EXPECT_EQ(sent.error_number, EAGAIN);
  EXPECT_EQ(queue.network->stats().packets_sent, 1u);
  EXPECT_EQ(CounterOf(*queue.network, "anycast_no_room"), 0u);
  queue.ExpectTheWorkerHoldsOnlyTheFirstPacket();
}

TEST(FlowControl, AnycastProducerIsWritableWhileAnyWorkerHasRoom) {
  PollOutcome poll;
  FullAnycastQueue queue;
  auto second = queue.JoinWorker();
  EXPECT_TRUE(queue.producer->Poll(nullptr, queue.now).writable) << "the second worker has room";
  ASSERT_TRUE(queue.producer->Send(kSecond, queue.now).ok());
  ASSERT_FALSE(queue.producer->Poll(Watch(poll), queue.now).writable);

  ASSERT_EQ(ReadNow(*queue.worker).bytes, kFirst);  // The second worker is still full.

  EXPECT_EQ(poll.notifications, 1);
  EXPECT_TRUE(queue.producer->Poll(nullptr, queue.now).writable);
}

TEST(FlowControl, AnycastWaitingSendGoesToAWorkerThatJoins) {
  SendOutcome sent;
  FullAnycastQueue queue;
  queue.SendWaiting(kSecond, sent);
  ASSERT_TRUE(sent.pending());

  auto fresh = queue.JoinWorker();

  EXPECT_EQ(sent.completions, 1);
  EXPECT_EQ(ReadNow(*fresh).bytes, kSecond);
}

TEST(FlowControl, AnycastWaitingSendIsDroppedAndCountedOnceEveryFullWorkerHasStalled) {
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

TEST(FlowControl, AnycastWaitingSendIsCountedAsNoReceiverWhenTheLastWorkerLeaves) {
  SendOutcome sent;
  FullAnycastQueue queue;
  queue.SendWaiting(kSecond, sent);

  queue.worker.reset();

  EXPECT_EQ(sent.completions, 1);
  EXPECT_EQ(CounterOf(*queue.network, "anycast_no_receiver"), 1u);
}

TEST(FlowControl, AnycastUnderDropFlowStillDropsAndCountsWhenNoWorkerHasRoom) {
  FullAnycastQueue queue(Flow::kDrop);

  EXPECT_TRUE(queue.producer->Send(kSecond, queue.now).ok());

  EXPECT_EQ(CounterOf(*queue.network, "anycast_no_room"), 1u);
  EXPECT_TRUE(queue.producer->Poll(nullptr, queue.now).writable);
}

}  // namespace
}  // namespace ipnfs::test_network
