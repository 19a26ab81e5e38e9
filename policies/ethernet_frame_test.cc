#include "policies/ethernet_frame.h"

#include <gtest/gtest.h>

#include <vector>

#include "policies/frame_builder.h"

namespace ipnfs {
namespace {

TEST(EthernetFrame, ReadsTheAddressesOfAnUntaggedFrameOnVlanZero) {
  const std::vector<uint8_t> bytes = FrameBuilder().To(TestMac(2)).From(TestMac(1)).Build();
  absl::StatusOr<EthernetFrame> frame = EthernetFrame::Parse(bytes);
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ(frame->destination(), TestMac(2));
  EXPECT_EQ(frame->source(), TestMac(1));
  EXPECT_FALSE(frame->tagged());
  EXPECT_EQ(frame->vlan(), 0);
}

TEST(EthernetFrame, ReadsTheVlanIdFromTheLow12BitsOfTheTag) {
  // Priority 5 and the DEI bit set around VLAN 0x123: only the VLAN id counts.
  const std::vector<uint8_t> bytes = FrameBuilder().Vlan(0xb123).Build();
  absl::StatusOr<EthernetFrame> frame = EthernetFrame::Parse(bytes);
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_TRUE(frame->tagged());
  EXPECT_EQ(frame->vlan(), 0x123);
}

TEST(EthernetFrame, AcceptsABareHeaderOfFourteenBytes) {
  const std::vector<uint8_t> bytes = FrameBuilder().Payload({}).Build();
  ASSERT_EQ(bytes.size(), EthernetFrame::kHeaderSize);
  EXPECT_TRUE(EthernetFrame::Parse(bytes).ok());
}

TEST(EthernetFrame, RejectsFramesShorterThanAnEthernetHeader) {
  std::vector<uint8_t> bytes = FrameBuilder().Payload({}).Build();
  bytes.pop_back();
  EXPECT_EQ(EthernetFrame::Parse(bytes).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EthernetFrame::Parse({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EthernetFrame, RejectsTaggedFramesShorterThanEighteenBytes) {
  std::vector<uint8_t> bytes = FrameBuilder().Vlan(7).Payload({}).Build();
  ASSERT_EQ(bytes.size(), EthernetFrame::kTaggedHeaderSize);
  EXPECT_TRUE(EthernetFrame::Parse(bytes).ok());
  bytes.pop_back();
  EXPECT_EQ(EthernetFrame::Parse(bytes).status().code(), absl::StatusCode::kInvalidArgument);
  bytes.resize(EthernetFrame::kHeaderSize);  // Just the TPID, no TCI.
  EXPECT_EQ(EthernetFrame::Parse(bytes).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ipnfs
