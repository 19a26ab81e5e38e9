#include "policies/hub_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ipnfs {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class AllRoom : public PortView {
 public:
  bool HasRoom(PortId) const override { return true; }
};

std::vector<PortId> RouteFrom(Policy& policy, PortId ingress) {
  static const uint8_t kPayload[] = {'h', 'i'};
  std::vector<PortId> out;
  EXPECT_TRUE(policy.Route(ingress, kPayload, absl::UnixEpoch(), AllRoom(), &out).ok());
  return out;
}

TEST(HubPolicy, DeliversToEveryOtherReceiverNeverBackToTheSender) {
  HubPolicy hub;
  hub.Join(1, PortMode::kSendReceive);
  hub.Join(2, PortMode::kSendReceive);
  hub.Join(3, PortMode::kReceive);
  EXPECT_THAT(RouteFrom(hub, 1), ElementsAre(2, 3));
  EXPECT_THAT(RouteFrom(hub, 2), ElementsAre(1, 3));
}

TEST(HubPolicy, SendOnlyPortsAreNeverDestinations) {
  HubPolicy hub;
  hub.Join(1, PortMode::kSend);
  hub.Join(2, PortMode::kSend);
  hub.Join(3, PortMode::kReceive);
  EXPECT_THAT(RouteFrom(hub, 1), ElementsAre(3));
  EXPECT_THAT(RouteFrom(hub, 2), ElementsAre(3));
}

TEST(HubPolicy, APortThatLeftReceivesNothing) {
  HubPolicy hub;
  hub.Join(1, PortMode::kSend);
  hub.Join(2, PortMode::kReceive);
  hub.Join(3, PortMode::kReceive);
  hub.Leave(2);
  EXPECT_THAT(RouteFrom(hub, 1), ElementsAre(3));
  hub.Leave(3);
  EXPECT_THAT(RouteFrom(hub, 1), IsEmpty());
}

TEST(HubPolicy, DeliversInJoinOrderWhateverTheJoinSequence) {
  HubPolicy hub;
  hub.Join(7, PortMode::kReceive);
  hub.Join(3, PortMode::kReceive);
  hub.Join(5, PortMode::kReceive);
  EXPECT_THAT(RouteFrom(hub, 9), ElementsAre(3, 5, 7));
}

TEST(HubPolicy, LeavingAnUnknownPortChangesNothing) {
  HubPolicy hub;
  hub.Join(1, PortMode::kReceive);
  hub.Leave(42);
  EXPECT_THAT(RouteFrom(hub, 2), ElementsAre(1));
}

}  // namespace
}  // namespace ipnfs
