// Network::Tick's events: drop bursts, rate-limited, and the policy's own.
#include <gtest/gtest.h>

#include "core/network.h"
#include "policies/hub_policy.h"

namespace ipnfs {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

TEST(NetworkEvents, DropsBecomeOneDropBurstEventASecondAtMost) {
  NetworkConfig config;
  config.qlen = 1;
  auto network = Network::Create(std::make_unique<HubPolicy>(), config);
  auto sender = network->Join(PortMode::kSend, PortOwner{}, kStart);
  auto receiver = network->Join(PortMode::kReceive, PortOwner{}, kStart);
  ASSERT_TRUE(sender.ok() && receiver.ok());
  const uint8_t byte[] = {1};
  for (int i = 0; i < 4; ++i) ASSERT_TRUE((*sender)->Send(byte, kStart).ok());  // 3 dropped.

  network->Tick(kStart);
  std::vector<PolicyEvent> events = network->TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "drop-burst");
  EXPECT_EQ(events[0].details, "dropped=3");

  ASSERT_TRUE((*sender)->Send(byte, kStart).ok());
  network->Tick(kStart + absl::Milliseconds(500));
  EXPECT_TRUE(network->TakeEvents().empty());  // Within the second: held back.
  network->Tick(kStart + absl::Seconds(1));
  events = network->TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].details, "dropped=1");
  network->Tick(kStart + absl::Seconds(5));
  EXPECT_TRUE(network->TakeEvents().empty());  // No new drops, no event.
}

}  // namespace
}  // namespace ipnfs
