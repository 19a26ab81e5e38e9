#include "policies/switch_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "policies/frame_builder.h"

namespace ipnfs {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const absl::Time kT0 = absl::FromUnixSeconds(1'000'000);
const MacAddress kA = TestMac(0xa);
const MacAddress kB = TestMac(0xb);
const MacAddress kC = TestMac(0xc);
const MacAddress kMulticast(MacAddress::Bytes{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01});

// The switch never asks about room; anything would do.
class AllRoom : public PortView {
 public:
  bool HasRoom(PortId) const override { return true; }
};

// A switch with ports 1, 2 and 3, all sending and receiving.
class SwitchPolicyTest : public ::testing::Test {
 protected:
  SwitchPolicyTest() {
    for (PortId port : {1, 2, 3}) policy_.Join(port, PortMode::kSendReceive);
  }

  // Where `frame` sent by `ingress` at `now` goes; the frame must be accepted.
  std::vector<PortId> Send(PortId ingress, const std::vector<uint8_t>& frame,
                           absl::Time now = kT0) {
    std::vector<PortId> destinations;
    const absl::Status status = policy_.Route(ingress, frame, now, AllRoom(), &destinations);
    EXPECT_TRUE(status.ok()) << status;
    return destinations;
  }

  uint64_t Counter(absl::string_view name) const {
    for (const PolicyCounter& counter : policy_.Counters()) {
      if (counter.name == name) return counter.value;
    }
    ADD_FAILURE() << "no counter " << name;
    return 0;
  }

  std::string MacTableText(absl::Time now = kT0) const {
    absl::StatusOr<std::string> text = policy_.ReadAttribute("mactable", now);
    EXPECT_TRUE(text.ok()) << text.status();
    return text.value_or("");
  }

  void Configure(absl::Duration ageing, size_t max_macs) {
    PolicyOptions options;
    options.ageing = ageing;
    options.max_macs = max_macs;
    policy_.Configure(options);
  }

  SwitchPolicy policy_;
};

TEST_F(SwitchPolicyTest, FloodsAFrameForAnUnknownDestinationToEveryOtherPort) {
  EXPECT_THAT(Send(1, FrameBuilder().From(kA).To(kB).Build()), ElementsAre(2, 3));
  EXPECT_EQ(Counter("frames_flooded"), 1u);
}

TEST_F(SwitchPolicyTest, DeliversAFrameForALearnedDestinationToItsPortOnly) {
  Send(2, FrameBuilder().From(kB).Build());
  EXPECT_THAT(Send(1, FrameBuilder().From(kA).To(kB).Build()), ElementsAre(2));
  EXPECT_THAT(Send(2, FrameBuilder().From(kB).To(kA).Build()), ElementsAre(1));
  EXPECT_EQ(Counter("frames_unicast"), 2u);
}

TEST_F(SwitchPolicyTest, FloodsBroadcastAndMulticastFrames) {
  Send(2, FrameBuilder().From(kB).Build());
  EXPECT_THAT(Send(1, FrameBuilder().From(kA).To(MacAddress::Broadcast()).Build()),
              ElementsAre(2, 3));
  EXPECT_THAT(Send(3, FrameBuilder().From(kC).To(kMulticast).Build()), ElementsAre(1, 2));
}

TEST_F(SwitchPolicyTest, DeliversNowhereWhenTheDestinationIsOnTheIngressPort) {
  Send(1, FrameBuilder().From(kA).Build());
  Send(1, FrameBuilder().From(kB).Build());
  EXPECT_THAT(Send(1, FrameBuilder().From(kA).To(kB).Build()), IsEmpty());
  EXPECT_EQ(Counter("frames_filtered"), 1u);
}

TEST_F(SwitchPolicyTest, AFrameToItsOwnSourceGoesNowhere) {
  EXPECT_THAT(Send(1, FrameBuilder().From(kA).To(kA).Build()), IsEmpty());
}

TEST_F(SwitchPolicyTest, LearnsTheSameMacOnTwoVlansAsTwoEntriesOnTheirOwnPorts) {
  Send(1, FrameBuilder().From(kA).Vlan(10).Build());
  Send(2, FrameBuilder().From(kA).Vlan(20).Build());
  EXPECT_THAT(Send(3, FrameBuilder().From(kC).To(kA).Vlan(10).Build()), ElementsAre(1));
  EXPECT_THAT(Send(3, FrameBuilder().From(kC).To(kA).Vlan(20).Build()), ElementsAre(2));
  EXPECT_EQ(Counter("mac_moves"), 0u);
  EXPECT_EQ(MacTableText(),
            "02:00:00:00:00:0a 10 1 0\n"
            "02:00:00:00:00:0a 20 2 0\n"
            "02:00:00:00:00:0c 10 3 0\n"
            "02:00:00:00:00:0c 20 3 0\n");
}

TEST_F(SwitchPolicyTest, FloodsAFrameForAMacKnownOnlyOnAnotherVlan) {
  Send(1, FrameBuilder().From(kA).Vlan(10).Build());
  EXPECT_THAT(Send(2, FrameBuilder().From(kB).To(kA).Vlan(20).Build()), ElementsAre(1, 3));
  EXPECT_THAT(Send(2, FrameBuilder().From(kB).To(kA).Build()), ElementsAre(1, 3));
}

TEST_F(SwitchPolicyTest, UntaggedAndPriorityTaggedFramesShareVlanZero) {
  Send(1, FrameBuilder().From(kA).Build());
  EXPECT_THAT(Send(2, FrameBuilder().From(kB).To(kA).Vlan(0).Build()), ElementsAre(1));
}

TEST_F(SwitchPolicyTest, ALearnedEntryIsUnusedFromExactlyAgeingAfterItWasLastSeenBeforeTick) {
  Send(1, FrameBuilder().From(kA).Build(), kT0);
  const std::vector<uint8_t> to_a = FrameBuilder().From(kB).To(kA).Build();
  EXPECT_THAT(Send(2, to_a, kT0 + absl::Seconds(300) - absl::Nanoseconds(1)), ElementsAre(1));
  EXPECT_THAT(Send(2, to_a, kT0 + absl::Seconds(300)), ElementsAre(1, 3));
}

TEST_F(SwitchPolicyTest, TickRemovesExpiredEntries) {
  Send(1, FrameBuilder().From(kA).Build(), kT0);
  Send(2, FrameBuilder().From(kB).Build(), kT0 + absl::Seconds(1));
  policy_.Tick(kT0 + absl::Seconds(300));
  EXPECT_EQ(Counter("mac_entries"), 1u);
  EXPECT_EQ(Counter("mac_aged"), 1u);
  EXPECT_EQ(MacTableText(kT0 + absl::Seconds(300)), "02:00:00:00:00:0b 0 2 299\n");
}

TEST_F(SwitchPolicyTest, ConfigureChangesTheAgeing) {
  Configure(absl::Seconds(10), 4096);
  Send(1, FrameBuilder().From(kA).Build(), kT0);
  EXPECT_THAT(Send(2, FrameBuilder().From(kB).To(kA).Build(), kT0 + absl::Seconds(10)),
              ElementsAre(1, 3));
}

TEST_F(SwitchPolicyTest, FloodsForSourcesNotLearnedBecauseTheTableIsFullAndCountsThem) {
  Configure(absl::Seconds(300), 1);
  Send(1, FrameBuilder().From(kA).Build());
  Send(2, FrameBuilder().From(kB).Build());
  EXPECT_THAT(Send(3, FrameBuilder().From(kC).To(kB).Build()), ElementsAre(1, 2));
  EXPECT_THAT(Send(3, FrameBuilder().From(kC).To(kA).Build()), ElementsAre(1));
  EXPECT_EQ(Counter("mac_entries"), 1u);
  EXPECT_EQ(Counter("mac_table_full"), 3u);  // kB once, kC twice.
}

TEST_F(SwitchPolicyTest, ShrinkingMaxMacsKeepsEntriesButLearnsNoMore) {
  Send(1, FrameBuilder().From(kA).Build());
  Send(2, FrameBuilder().From(kB).Build());
  Configure(absl::Seconds(300), 1);
  EXPECT_EQ(Counter("mac_entries"), 2u);
  EXPECT_THAT(Send(3, FrameBuilder().From(kC).To(kA).Build()), ElementsAre(1));
  EXPECT_THAT(Send(1, FrameBuilder().From(kA).To(kC).Build()), ElementsAre(2, 3));
  EXPECT_EQ(Counter("mac_table_full"), 1u);
}

TEST_F(SwitchPolicyTest, APortThatLeavesTakesItsEntriesWithIt) {
  Send(2, FrameBuilder().From(kA).Build());
  Send(2, FrameBuilder().From(kB).Vlan(5).Build());
  policy_.Leave(2);
  EXPECT_THAT(Send(1, FrameBuilder().From(kC).To(kA).Build()), ElementsAre(3));
  EXPECT_EQ(Counter("mac_flushed"), 2u);
  EXPECT_EQ(MacTableText(), "02:00:00:00:00:0c 0 1 0\n");
}

TEST_F(SwitchPolicyTest, AMacSeenOnAnotherPortMovesThereAndTheMoveIsCounted) {
  Send(1, FrameBuilder().From(kA).Build());
  Send(2, FrameBuilder().From(kA).Build());
  EXPECT_THAT(Send(3, FrameBuilder().From(kC).To(kA).Build()), ElementsAre(2));
  EXPECT_EQ(Counter("mac_moves"), 1u);
  EXPECT_EQ(Counter("mac_entries"), 2u);
}

TEST_F(SwitchPolicyTest, AMacMoveIsReportedOnceAsAnEventWithBothPorts) {
  Send(1, FrameBuilder().From(kA).Build());
  Send(1, FrameBuilder().From(kA).Build());
  EXPECT_TRUE(policy_.TakeEvents().empty());
  Send(2, FrameBuilder().From(kA).Build());
  std::vector<PolicyEvent> events = policy_.TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "mac-move");
  EXPECT_EQ(events[0].details, "mac=" + kA.ToString() + " vlan=0 from=1 to=2");
  EXPECT_TRUE(policy_.TakeEvents().empty());
}

TEST_F(SwitchPolicyTest, KeepsAtMostABoundedNumberOfEvents) {
  for (size_t i = 0; i < SwitchPolicy::kMaxEvents + 10; ++i) {
    Send(1 + i % 2, FrameBuilder().From(kA).Build());
  }
  EXPECT_EQ(policy_.TakeEvents().size(), SwitchPolicy::kMaxEvents);
}

TEST_F(SwitchPolicyTest, NeverLearnsBroadcastMulticastOrAllZeroSources) {
  for (const MacAddress& source : {MacAddress::Broadcast(), kMulticast, MacAddress()}) {
    Send(1, FrameBuilder().From(source).To(kB).Build());
  }
  EXPECT_EQ(Counter("mac_entries"), 0u);
  EXPECT_EQ(MacTableText(), "");
  EXPECT_THAT(Send(2, FrameBuilder().From(kB).To(MacAddress()).Build()), ElementsAre(1, 3));
}

TEST_F(SwitchPolicyTest, RejectsAFrameShorterThanAnEthernetHeaderAndLearnsNothing) {
  std::vector<uint8_t> frame = FrameBuilder().From(kA).Payload({}).Build();
  frame.pop_back();
  std::vector<PortId> destinations;
  EXPECT_EQ(policy_.Route(1, frame, kT0, AllRoom(), &destinations).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(destinations, IsEmpty());
  EXPECT_EQ(Counter("frames_invalid"), 1u);
  EXPECT_EQ(Counter("mac_entries"), 0u);
}

TEST_F(SwitchPolicyTest, RejectsATaggedFrameShorterThanEighteenBytes) {
  std::vector<uint8_t> frame = FrameBuilder().From(kA).Vlan(7).Payload({}).Build();
  frame.pop_back();
  std::vector<PortId> destinations;
  EXPECT_EQ(policy_.Route(1, frame, kT0, AllRoom(), &destinations).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(destinations, IsEmpty());
  EXPECT_EQ(Counter("mac_entries"), 0u);
}

TEST_F(SwitchPolicyTest, SendOnlyPortsAreNeverDestinationsButReceiveOnlyPortsAre) {
  policy_.Join(4, PortMode::kSend);
  policy_.Join(5, PortMode::kReceive);
  EXPECT_THAT(Send(1, FrameBuilder().From(kA).Build()), ElementsAre(2, 3, 5));
}

TEST_F(SwitchPolicyTest, NeverLearnsASendOnlyPortSoFramesForItAreFlooded) {
  policy_.Join(4, PortMode::kSend);
  EXPECT_THAT(Send(4, FrameBuilder().From(kC).Build()), ElementsAre(1, 2, 3));
  EXPECT_THAT(Send(1, FrameBuilder().From(kA).To(kC).Build()), ElementsAre(2, 3));
  EXPECT_EQ(MacTableText(), "02:00:00:00:00:0a 0 1 0\n");
}

TEST_F(SwitchPolicyTest, OffersTheMacTableSortedWithAgesInWholeSeconds) {
  Send(3, FrameBuilder().From(kB).Build(), kT0);
  Send(1, FrameBuilder().From(kA).Vlan(42).Build(), kT0 + absl::Milliseconds(5500));
  EXPECT_THAT(policy_.ReadOnlyAttributes(), ElementsAre("mactable"));
  EXPECT_EQ(MacTableText(kT0 + absl::Seconds(12)),
            "02:00:00:00:00:0a 42 1 6\n"
            "02:00:00:00:00:0b 0 3 12\n");
  EXPECT_EQ(policy_.ReadAttribute("stats", kT0).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SwitchPolicyTest, ReportsItsCountersInAFixedOrder) {
  std::vector<std::string> names;
  for (const PolicyCounter& counter : policy_.Counters()) names.emplace_back(counter.name);
  EXPECT_THAT(names, ElementsAre("mac_entries", "mac_learned", "mac_moves", "mac_aged",
                                 "mac_flushed", "mac_table_full", "frames_unicast",
                                 "frames_flooded", "frames_filtered", "frames_invalid"));
}

}  // namespace
}  // namespace ipnfs
