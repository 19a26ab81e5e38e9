#include "policies/mac_address.h"

#include <gtest/gtest.h>

namespace ipnfs {
namespace {

constexpr MacAddress kStation(MacAddress::Bytes{0x02, 0x00, 0x5e, 0x10, 0x00, 0x0a});
constexpr MacAddress kIpv4Multicast(MacAddress::Bytes{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01});

TEST(MacAddress, PrintsAsLowercaseColonSeparatedHex) {
  EXPECT_EQ(kStation.ToString(), "02:00:5e:10:00:0a");
  EXPECT_EQ(MacAddress::Broadcast().ToString(), "ff:ff:ff:ff:ff:ff");
  EXPECT_EQ(MacAddress().ToString(), "00:00:00:00:00:00");
}

TEST(MacAddress, OnlyNonZeroIndividualAddressesAreValidUnicast) {
  EXPECT_TRUE(kStation.IsValidUnicast());
  EXPECT_FALSE(MacAddress().IsValidUnicast());
  EXPECT_FALSE(MacAddress::Broadcast().IsValidUnicast());
  EXPECT_FALSE(kIpv4Multicast.IsValidUnicast());
}

TEST(MacAddress, BroadcastIsAMulticastAddressButNotEveryMulticastIsBroadcast) {
  EXPECT_TRUE(MacAddress::Broadcast().IsMulticast());
  EXPECT_TRUE(MacAddress::Broadcast().IsBroadcast());
  EXPECT_TRUE(kIpv4Multicast.IsMulticast());
  EXPECT_FALSE(kIpv4Multicast.IsBroadcast());
  EXPECT_FALSE(kStation.IsMulticast());
}

TEST(MacAddress, OrdersLikeItsText) {
  const MacAddress low(MacAddress::Bytes{0x02, 0, 0, 0, 0, 0xff});
  const MacAddress high(MacAddress::Bytes{0x02, 0, 0, 0, 1, 0x00});
  EXPECT_LT(low, high);
  EXPECT_LT(low.ToString(), high.ToString());
  EXPECT_EQ(low, MacAddress(low.bytes()));
}

}  // namespace
}  // namespace ipnfs
