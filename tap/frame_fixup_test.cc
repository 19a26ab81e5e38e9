#include "tap/frame_fixup.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace ipnfs {
namespace {

TEST(FrameFixup, VlanTagGoesAfterTheMacAddresses) {
  std::vector<uint8_t> buffer(4, 0);
  for (uint8_t i = 0; i < 16; ++i) buffer.push_back(i);  // MACs 0..11, EtherType 12..13, data.
  ASSERT_TRUE(InsertVlanTag(buffer.data() + 4, 16, 0x8100, 0x0123));
  const std::vector<uint8_t> expected = {0,  1,  2,    3,    4,    5,    6,  7,  8,  9,
                                         10, 11, 0x81, 0x00, 0x01, 0x23, 12, 13, 14, 15};
  EXPECT_EQ(buffer, expected);
}

TEST(FrameFixup, VlanTagNeedsTwoMacAddresses) {
  std::vector<uint8_t> buffer(4 + 11, 7);
  const std::vector<uint8_t> before = buffer;
  EXPECT_FALSE(InsertVlanTag(buffer.data() + 4, 11, 0x8100, 1));
  EXPECT_EQ(buffer, before);
}

}  // namespace
}  // namespace ipnfs
