#include "core/port_queue.h"

#include <gtest/gtest.h>

namespace ipnfs {
namespace {

PacketRef MakePacket(uint8_t tag) {
  const uint8_t bytes[] = {tag};
  return Packet::Create(bytes, absl::UnixEpoch());
}

TEST(PortQueue, ReturnsPacketsInTheOrderTheyWerePushed) {
  PortQueue queue(4);
  ASSERT_TRUE(queue.Push(MakePacket(1)));
  ASSERT_TRUE(queue.Push(MakePacket(2)));
  EXPECT_EQ(queue.Pop()->bytes()[0], 1);
  EXPECT_EQ(queue.Pop()->bytes()[0], 2);
  EXPECT_EQ(queue.Pop(), nullptr);
  EXPECT_TRUE(queue.empty());
}

TEST(PortQueue, RefusesPacketsBeyondCapacityAndKeepsTheOldOnes) {
  PortQueue queue(2);
  EXPECT_TRUE(queue.Push(MakePacket(1)));
  EXPECT_TRUE(queue.Push(MakePacket(2)));
  EXPECT_FALSE(queue.Push(MakePacket(3)));
  EXPECT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue.Pop()->bytes()[0], 1);
  EXPECT_TRUE(queue.Push(MakePacket(4)));
  EXPECT_EQ(queue.Pop()->bytes()[0], 2);
  EXPECT_EQ(queue.Pop()->bytes()[0], 4);
}

TEST(PortQueue, SharesThePacketInsteadOfCopyingIt) {
  PortQueue a(1), b(1);
  PacketRef packet = MakePacket(7);
  a.Push(packet);
  b.Push(packet);
  EXPECT_EQ(a.Pop().get(), packet.get());
  EXPECT_EQ(b.Pop().get(), packet.get());
}

TEST(PortQueue, CapacityIsAtLeastOne) {
  PortQueue queue(0);
  EXPECT_EQ(queue.capacity(), 1u);
  EXPECT_TRUE(queue.Push(MakePacket(1)));
  EXPECT_FALSE(queue.Push(MakePacket(2)));
}

}  // namespace
}  // namespace ipnfs
