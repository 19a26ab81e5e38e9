#include "policies/policy_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ipnfs {
namespace {

using ::testing::ElementsAre;

TEST(PolicyRegistry, ListsHubFirstThenSwitchAndAnycastEachWithADescription) {
  std::vector<std::string> names;
  for (const PolicyInfo& info : Policies()) {
    names.emplace_back(info.name);
    EXPECT_FALSE(info.description.empty()) << info.name;
  }
  EXPECT_THAT(names, ElementsAre("hub", "switch", "anycast"));
}

TEST(PolicyRegistry, CreatesEveryListedPolicyUnderItsOwnName) {
  for (const PolicyInfo& info : Policies()) {
    absl::StatusOr<std::unique_ptr<Policy>> policy = CreatePolicy(info.name);
    ASSERT_TRUE(policy.ok()) << policy.status();
    EXPECT_EQ((*policy)->name(), info.name);
  }
}

TEST(PolicyRegistry, CreatesSwitchAndAnycastByName) {
  absl::StatusOr<std::unique_ptr<Policy>> learning = CreatePolicy("switch");
  ASSERT_TRUE(learning.ok()) << learning.status();
  EXPECT_THAT((*learning)->ReadOnlyAttributes(), ElementsAre("mactable"));
  absl::StatusOr<std::unique_ptr<Policy>> anycast = CreatePolicy("anycast");
  ASSERT_TRUE(anycast.ok()) << anycast.status();
  EXPECT_EQ((*anycast)->name(), "anycast");
}

TEST(PolicyRegistry, RejectsUnknownNames) {
  EXPECT_EQ(CreatePolicy("nonsense").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreatePolicy("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreatePolicy("Switch").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ipnfs
