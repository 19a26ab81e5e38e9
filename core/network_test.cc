// Tests for Network and Port through their public contract, with the hub policy and tiny fake
// waiters that record what the core did to them (core/test_network.h). Flow control "block" has
// its own tests in flow_control_test.cc.
#include "core/network.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "core/errno_status.h"
#include "core/port.h"
#include "core/test_network.h"
#include "core/waiters.h"
#include "policies/frame_builder.h"

namespace ipnfs::test_network {
namespace {

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

  receiver->Receive(Read(read), Waiting::kPark, kStart);
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

  receiver->Receive(AbandonedRead(read), Waiting::kPark, kStart);
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
  receiver->Receive(Read(read, /*id=*/7), Waiting::kPark, kStart);
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
  receiver->Receive(Read(cancelled, /*id=*/1), Waiting::kPark, kStart);
  receiver->Receive(Read(next, /*id=*/2), Waiting::kPark, kStart);

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
  receiver->Receive(Read(cancelled, /*id=*/1), Waiting::kPark, kStart);

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
  receiver->Receive(Read(read, /*id=*/1), Waiting::kPark, kStart);

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
  receiver->Receive(Read(read, /*id=*/1), Waiting::kPark, kStart);
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
  receiver->Receive(Read(read, /*id=*/1, /*max_bytes=*/3), Waiting::kPark, kStart);

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

  EXPECT_FALSE(receiver->Poll(nullptr, kStart).readable);
  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());
  EXPECT_TRUE(receiver->Poll(nullptr, kStart).readable);
  ASSERT_EQ(ReadNow(*receiver).completions, 1);
  EXPECT_FALSE(receiver->Poll(nullptr, kStart).readable);
}

TEST(Network, SendingPortIsAlwaysWritableWhenFullQueuesDrop) {
  auto network = NewHub(Config(Flow::kDrop, /*qlen=*/1));
  auto send_receive = JoinAs(*network, PortMode::kSendReceive);
  auto send_only = JoinAs(*network, PortMode::kSend);
  auto receive_only = JoinAs(*network, PortMode::kReceive);

  EXPECT_TRUE(send_receive->Poll(nullptr, kStart).writable);
  EXPECT_TRUE(send_only->Poll(nullptr, kStart).writable);
  // Still writable when the receivers' queues are full: the next packet is dropped, not held.
  ASSERT_TRUE(send_only->Send(kPacket, kStart).ok());
  ASSERT_TRUE(send_only->Send(kPacket, kStart).ok());
  ASSERT_EQ(receive_only->queued(), 1u);
  EXPECT_TRUE(send_only->Poll(nullptr, kStart).writable);
  EXPECT_TRUE(send_receive->Poll(nullptr, kStart).writable);
}

TEST(Network, PollWaiterIsNotifiedOnceWhenAPacketIsQueued) {
  PollOutcome poll;
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);

  EXPECT_FALSE(receiver->Poll(Watch(poll), kStart).readable);
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
  receiver->Poll(Watch(old_poll), kStart);

  receiver->Poll(Watch(new_poll), kStart);
  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());

  EXPECT_EQ(old_poll.notifications, 0);
  EXPECT_TRUE(old_poll.destroyed);
  EXPECT_EQ(new_poll.notifications, 1);
}

TEST(Network, DestroyingAPortFailsItsParkedReadWithEbadf) {
  ReadOutcome read;
  auto network = NewHub();
  auto receiver = JoinAs(*network, PortMode::kReceive);
  receiver->Receive(Read(read), Waiting::kPark, kStart);
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
      Waiting::kPark, kStart);

  ASSERT_TRUE(sender->Send(kPacket, kStart).ok());

  ASSERT_EQ(read.completions, 1);
  EXPECT_TRUE(read.network_was_unlocked);
}

TEST(Network, PollWaiterIsNotifiedWithTheNetworkUnlocked) {
  PollOutcome poll;
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);
  receiver->Poll(std::make_unique<FakePollWaiter>(poll, network), kStart);

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
  tap->SetOffloadDelivery(OffloadDelivery::kAsIs);
  const std::vector<uint8_t> packet = Tcp4Packet(2500, kAck);

  ASSERT_TRUE(sender->Send(packet, kTso4, kStart).ok());

  std::vector<PacketRef> taken;
  ASSERT_EQ(tap->TakeQueued(8, taken, kStart), 1u);
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
    ASSERT_EQ(port->TakeQueued(8, taken, kStart), 3u);
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
  ASSERT_EQ(receiver->TakeQueued(1, taken, kStart), 1u);
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

// ---- Batched taking (Port::TakeQueued) ----

TEST(Network, TakeQueuedMovesAtMostTheAskedNumberOldestFirst) {
  auto network = NewHub();
  auto sender = JoinAs(*network, PortMode::kSend);
  auto receiver = JoinAs(*network, PortMode::kReceive);
  for (uint8_t i = 1; i <= 3; ++i) ASSERT_TRUE(sender->Send(std::vector<uint8_t>{i}, kStart).ok());
  std::vector<PacketRef> taken;

  EXPECT_EQ(receiver->TakeQueued(2, taken, kStart), 2u);

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

  EXPECT_EQ(receiver->TakeQueued(8, taken, kStart), 0u);
  EXPECT_TRUE(taken.empty());
}

TEST(Network, TakeQueuedReleasesASenderWaitingUnderBlockFlow) {
  SendOutcome sent;
  const absl::Time now = kStart;
  auto network = NewHub(Config(Flow::kBlock, /*qlen=*/1));
  auto sender = JoinAs(*network, PortMode::kSend, now);
  auto receiver = JoinAs(*network, PortMode::kReceive, now);
  ASSERT_TRUE(sender->Send(kFirst, now).ok());
  sender->Send(kSecond, now, Write(sent), Waiting::kPark);
  ASSERT_TRUE(sent.pending());
  std::vector<PacketRef> taken;

  ASSERT_EQ(receiver->TakeQueued(1, taken, now), 1u);

  EXPECT_EQ(sent.completions, 1);
  EXPECT_EQ(ReadNow(*receiver).bytes, kSecond);
}

}  // namespace
}  // namespace ipnfs::test_network
