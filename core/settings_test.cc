#include "core/settings.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "core/errno_status.h"

namespace ipnfs {
namespace {

int ErrnoOf(const absl::Status& status) { return StatusToErrno(status); }

TEST(Settings, EverySettingFormatsToAValueItAcceptsBack) {
  NetworkConfig config;
  config.mtu = 1500;
  config.qlen = 7;
  config.flow = Flow::kBlock;
  config.stall = absl::Milliseconds(250);
  config.max_ports = 3;
  for (absl::string_view name : SettingNames()) {
    NetworkConfig copy;
    ASSERT_TRUE(ApplySetting(name, FormatSetting(name, config), SettingLimits{}, &copy).ok())
        << name;
    EXPECT_EQ(FormatSetting(name, copy), FormatSetting(name, config)) << name;
  }
}

TEST(Settings, ValuesMayCarrySurroundingWhiteSpace) {
  NetworkConfig config;
  ASSERT_TRUE(ApplySetting("mtu", " 1500\n", SettingLimits{}, &config).ok());
  EXPECT_EQ(config.mtu, 1500u);
}

TEST(Settings, MtuIsBoundedByTheLargestFuseWrite) {
  NetworkConfig config;
  const SettingLimits limits{.max_mtu = 4096};
  EXPECT_TRUE(ApplySetting("mtu", "4096", limits, &config).ok());
  EXPECT_EQ(ErrnoOf(ApplySetting("mtu", "4097", limits, &config)), EINVAL);
  EXPECT_EQ(ErrnoOf(ApplySetting("mtu", "0", limits, &config)), EINVAL);
  EXPECT_EQ(config.mtu, 4096u);
}

TEST(Settings, MalformedNumbersAreInvalidAndChangeNothing) {
  NetworkConfig config;
  for (const char* bad : {"", "abc", "-1", "+5", "12x", "1e3", "99999999999999999999"}) {
    EXPECT_EQ(ErrnoOf(ApplySetting("qlen", bad, SettingLimits{}, &config)), EINVAL) << bad;
  }
  EXPECT_EQ(config.qlen, 256u);
}

TEST(Settings, RangesAreEnforced) {
  NetworkConfig config;
  EXPECT_EQ(ErrnoOf(ApplySetting("qlen", "0", SettingLimits{}, &config)), EINVAL);
  EXPECT_EQ(ErrnoOf(ApplySetting("qlen", "65537", SettingLimits{}, &config)), EINVAL);
  EXPECT_TRUE(ApplySetting("stall_ms", "0", SettingLimits{}, &config).ok());
  EXPECT_TRUE(ApplySetting("maxports", "0", SettingLimits{}, &config).ok());
}

TEST(Settings, FlowIsDropOrBlock) {
  NetworkConfig config;
  EXPECT_TRUE(ApplySetting("flow", "block", SettingLimits{}, &config).ok());
  EXPECT_EQ(config.flow, Flow::kBlock);
  EXPECT_EQ(ErrnoOf(ApplySetting("flow", "lossless", SettingLimits{}, &config)), EINVAL);
  EXPECT_EQ(config.flow, Flow::kBlock);
}

TEST(Settings, PolicyMustBeRegistered) {
  NetworkConfig config;
  EXPECT_TRUE(ApplySetting("policy", "hub", SettingLimits{}, &config).ok());
  EXPECT_EQ(ErrnoOf(ApplySetting("policy", "nonsense", SettingLimits{}, &config)), EINVAL);
  EXPECT_EQ(config.policy, "hub");
}

TEST(Settings, UnknownNamesAreNotSupported) {
  NetworkConfig config;
  EXPECT_FALSE(IsSettingName("stats"));
  EXPECT_EQ(ErrnoOf(ApplySetting("colour", "blue", SettingLimits{}, &config)), ENOTSUP);
}

}  // namespace
}  // namespace ipnfs
