#include "policies/anycast_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace ipnfs {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Every port has room except those listed as full; of these, those listed as holding back make
// senders wait (flow control "block"), the others are lossy (flow control "drop", or stalled).
class FakeRoom : public PortView {
 public:
  bool HasRoom(PortId port) const override { return full.count(port) == 0; }
  bool HoldsBack(PortId port) const override {
    return full.count(port) != 0 && holding_back.count(port) != 0;
  }
  std::set<PortId> full;
  std::set<PortId> holding_back;
};

class AnycastPolicyTest : public ::testing::Test {
 protected:
  // Joins `ports` with `mode`.
  void JoinAll(std::initializer_list<PortId> ports, PortMode mode = PortMode::kSendReceive) {
    for (PortId port : ports) policy_.Join(port, mode);
  }

  // The destinations of `count` packets sent one after the other by `ingress`, concatenated.
  std::vector<PortId> SendMany(PortId ingress, int count) {
    static const uint8_t kPayload[] = {'j', 'o', 'b'};
    std::vector<PortId> destinations;
    for (int i = 0; i < count; ++i) {
      EXPECT_TRUE(policy_.Route(ingress, kPayload, absl::UnixEpoch(), room_, &destinations).ok());
    }
    return destinations;
  }

  uint64_t Counter(absl::string_view name) const {
    for (const PolicyCounter& counter : policy_.Counters()) {
      if (counter.name == name) return counter.value;
    }
    ADD_FAILURE() << "no counter " << name;
    return 0;
  }

  AnycastPolicy policy_;
  FakeRoom room_;
};

TEST_F(AnycastPolicyTest, GivesEachPacketToTheNextOtherReceiverInTurn) {
  JoinAll({1, 2, 3, 4});
  EXPECT_THAT(SendMany(1, 5), ElementsAre(2, 3, 4, 2, 3));
}

TEST_F(AnycastPolicyTest, NeverGivesAPacketBackToItsSender) {
  JoinAll({1, 2, 3});
  EXPECT_THAT(SendMany(2, 4), ElementsAre(1, 3, 1, 3));
}

TEST_F(AnycastPolicyTest, SkipsReceiversWhoseQueueIsFull) {
  JoinAll({1, 2, 3, 4});
  room_.full = {3};
  EXPECT_THAT(SendMany(1, 4), ElementsAre(2, 4, 2, 4));
  room_.full = {};
  EXPECT_THAT(SendMany(1, 3), ElementsAre(2, 3, 4));
}

TEST_F(AnycastPolicyTest, DropsAndCountsAPacketOnlyWhenNoOtherReceiverHasRoom) {
  JoinAll({1, 2, 3});
  room_.full = {2, 3};  // The sender has room, which does not matter.
  EXPECT_THAT(SendMany(1, 2), IsEmpty());
  EXPECT_EQ(Counter("anycast_no_room"), 2u);
  room_.full = {2};
  EXPECT_THAT(SendMany(1, 1), ElementsAre(3));
  EXPECT_EQ(Counter("anycast_no_room"), 2u);
}

TEST_F(AnycastPolicyTest, AsksTheSenderToWaitWhenNoOtherReceiverHasRoomAndOneHoldsBack) {
  JoinAll({1, 2, 3});
  room_.full = {2, 3};
  room_.holding_back = {3};
  std::vector<PortId> destinations;

  const absl::Status routed = policy_.Route(1, {}, absl::UnixEpoch(), room_, &destinations);

  EXPECT_TRUE(absl::IsUnavailable(routed)) << routed;
  EXPECT_THAT(destinations, IsEmpty());
  EXPECT_TRUE(policy_.WouldWait(1, room_));
  EXPECT_EQ(Counter("anycast_no_room"), 0u);
}

TEST_F(AnycastPolicyTest, RoutingAgainAfterAWaitKeepsTheTurnAmongThoseWithRoom) {
  JoinAll({1, 2, 3, 4});
  EXPECT_THAT(SendMany(1, 1), ElementsAre(2));
  room_.full = {2, 3, 4};
  room_.holding_back = {2, 3, 4};
  std::vector<PortId> destinations;
  ASSERT_TRUE(absl::IsUnavailable(policy_.Route(1, {}, absl::UnixEpoch(), room_, &destinations)));
  room_.full = {3};  // 3 still full; 2 and 4 have read.
  EXPECT_THAT(SendMany(1, 3), ElementsAre(4, 2, 4));
}

TEST_F(AnycastPolicyTest, NeverWaitsWhileAnotherReceiverHasRoom) {
  JoinAll({1, 2, 3});
  room_.full = {2};
  room_.holding_back = {2};
  EXPECT_FALSE(policy_.WouldWait(1, room_));
  EXPECT_THAT(SendMany(1, 2), ElementsAre(3, 3));
}

TEST_F(AnycastPolicyTest, DropsWhenEveryReceiverWithoutRoomIsLossy) {
  JoinAll({1, 2, 3});
  room_.full = {1, 2, 3};
  room_.holding_back = {1};  // The sender itself does not count.
  EXPECT_FALSE(policy_.WouldWait(1, room_));
  EXPECT_THAT(SendMany(1, 1), IsEmpty());
  EXPECT_EQ(Counter("anycast_no_room"), 1u);
}

TEST_F(AnycastPolicyTest, NeverWaitsWithoutAnotherReceiver) {
  JoinAll({1});
  JoinAll({2}, PortMode::kSend);
  room_.full = {1, 2};
  room_.holding_back = {1, 2};
  EXPECT_FALSE(policy_.WouldWait(1, room_));
  EXPECT_THAT(SendMany(1, 1), IsEmpty());
  EXPECT_EQ(Counter("anycast_no_receiver"), 1u);
}

TEST_F(AnycastPolicyTest, CountsAPacketWithNoOtherReceiverApart) {
  EXPECT_THAT(SendMany(1, 1), IsEmpty());
  JoinAll({1});
  EXPECT_THAT(SendMany(1, 1), IsEmpty());
  EXPECT_EQ(Counter("anycast_no_receiver"), 2u);
  EXPECT_EQ(Counter("anycast_no_room"), 0u);
}

TEST_F(AnycastPolicyTest, SendOnlyPortsAreNeverChosen) {
  JoinAll({1, 3}, PortMode::kSend);
  JoinAll({2, 4}, PortMode::kReceive);
  EXPECT_THAT(SendMany(1, 3), ElementsAre(2, 4, 2));
}

TEST_F(AnycastPolicyTest, APortThatLeftIsSkippedAndTheTurnGoesOn) {
  JoinAll({1, 2, 3, 4});
  EXPECT_THAT(SendMany(1, 1), ElementsAre(2));
  policy_.Leave(2);
  policy_.Leave(3);
  EXPECT_THAT(SendMany(1, 2), ElementsAre(4, 4));
}

TEST_F(AnycastPolicyTest, ReportsItsCountersInAFixedOrder) {
  std::vector<std::string> names;
  for (const PolicyCounter& counter : policy_.Counters()) names.emplace_back(counter.name);
  EXPECT_THAT(names, ElementsAre("anycast_no_room", "anycast_no_receiver"));
}

}  // namespace
}  // namespace ipnfs
