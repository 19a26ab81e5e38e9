// Taps of one network moved into two network namespaces: the kernels on either side ping each
// other through the daemon, under the hub and the switch policy; a grabbed veth reaches a tap.
#include <fcntl.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/frame_builder.h"
#include "tests/port_io.h"
#include "tests/tap/ipn_attributes.h"
#include "tests/tap/network_namespace.h"
#include "tests/tap/tap_test.h"
#include "tests/tap/test_frames.h"

namespace ipnfs::tests {
namespace {

using ::testing::ElementsAre;
using ::testing::IsSupersetOf;

using TapPingTest = TapTest;

bool IsIpv4(absl::string_view frame) { return EtherTypeOf(frame) == FrameBuilder::kIpv4EtherType; }

TEST_F(TapPingTest, HubTapsInTwoNamespacesPingBothWays) {
  const std::string net = NewNetwork("net0");
  const Fd third = Open(net, O_RDONLY);
  ASSERT_TRUE(third.valid());
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1"), Succeeds());
  EXPECT_EQ(AttachedInterfaces(net), "ipn0,ipn1");
  const NetworkNamespace* a = NewNamespace();
  const NetworkNamespace* b = NewNamespace();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_EQ(a->Adopt("ipn0", "10.79.1.1/24"), absl::OkStatus());
  ASSERT_EQ(b->Adopt("ipn1", "10.79.1.2/24"), absl::OkStatus());

  EXPECT_TRUE(a->Pings("10.79.1.2"));
  EXPECT_TRUE(b->Pings("10.79.1.1"));

  EXPECT_EQ(AttachedInterfaces(net), "ipn0,ipn1");
  EXPECT_THAT(PortOwners(net), IsSupersetOf({"tap:ipn0", "tap:ipn1"}));
  // A hub gives every frame to every other port: the third one saw the ICMP too.
  const std::vector<std::string> seen = DrainFrames(third.get());
  EXPECT_TRUE(std::any_of(seen.begin(), seen.end(), IsIpv4)) << Describe(seen);
}

TEST_F(TapPingTest, SwitchTapsPingBothWaysAndAThirdPortSeesOnlyTheFloods) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.policy", "switch"), Succeeds());
  const Fd third = Open(net, O_RDONLY);
  ASSERT_TRUE(third.valid());
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1"), Succeeds());
  const NetworkNamespace* a = NewNamespace();
  const NetworkNamespace* b = NewNamespace();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_EQ(a->Adopt("ipn0", "10.79.2.1/24"), absl::OkStatus());
  ASSERT_EQ(b->Adopt("ipn1", "10.79.2.2/24"), absl::OkStatus());

  EXPECT_TRUE(a->Pings("10.79.2.2"));
  EXPECT_TRUE(b->Pings("10.79.2.1"));

  // The switch floods broadcasts and multicasts (ARP requests, IPv6 neighbour discovery) and
  // sends the unicast ICMP only to the tap that owns the destination MAC.
  const std::vector<std::string> seen = DrainFrames(third.get());
  EXPECT_TRUE(std::any_of(seen.begin(), seen.end(), IsArpBroadcast)) << Describe(seen);
  EXPECT_TRUE(std::none_of(seen.begin(), seen.end(), IsIpv4)) << Describe(seen);
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), IsGroupAddressed)) << Describe(seen);
}

TEST_F(TapPingTest, GrabbedVethInOneNamespacePingsATapInAnother) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(NetworkNamespace::Here().Shell(
                  "ip link add ipnv0 type veth peer name ipnv1 && ip link set ipnv0 up"),
              Succeeds());
  ASSERT_THAT(SetAttribute(net, "user.ipn.grab", "ipnv0"), Succeeds());
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0"), Succeeds());
  EXPECT_EQ(AttachedInterfaces(net, "grab"), "ipnv0");
  EXPECT_EQ(AttachedInterfaces(net, "tap"), "ipn0");
  EXPECT_THAT(PortOwners(net), ElementsAre("grab:ipnv0", "tap:ipn0"));
  const NetworkNamespace* a = NewNamespace();
  const NetworkNamespace* b = NewNamespace();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_EQ(a->Adopt("ipnv1", "10.79.3.1/24"), absl::OkStatus());
  ASSERT_EQ(b->Adopt("ipn0", "10.79.3.2/24"), absl::OkStatus());

  EXPECT_TRUE(a->Pings("10.79.3.2"));
  EXPECT_TRUE(b->Pings("10.79.3.1"));
  EXPECT_EQ(AttachedInterfaces(net, "grab"), "ipnv0");
}

// The promiscuity count `ip -d link show NAME` reports, or -1.
int Promiscuity(const std::string& name) {
  CommandResult shown = NetworkNamespace::Here().Shell("ip -d link show dev " + name);
  const size_t at = shown.out.find("promiscuity ");
  if (shown.exit_code != 0 || at == std::string::npos) return -1;
  return std::atoi(shown.out.c_str() + at + std::strlen("promiscuity "));
}

TEST_F(TapPingTest, GrabbedInterfaceIsPromiscuousOnlyWhileGrabbed) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(NetworkNamespace::Here().Shell("ip link add ipnv0 type veth peer name ipnv1"),
              Succeeds());
  ASSERT_EQ(Promiscuity("ipnv0"), 0);
  ASSERT_THAT(SetAttribute(net, "user.ipn.grab", "ipnv0"), Succeeds());
  EXPECT_EQ(Promiscuity("ipnv0"), 1) << "frames for the network's other MACs must arrive";
  ASSERT_THAT(RemoveAttribute(net, "user.ipn.grab"), Succeeds());
  EXPECT_EQ(Promiscuity("ipnv0"), 0) << "detaching gives the interface back as it was";
}

}  // namespace
}  // namespace ipnfs::tests
