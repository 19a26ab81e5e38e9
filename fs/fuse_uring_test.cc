#include "fs/fuse_uring.h"

#include "gtest/gtest.h"

namespace ipnfs {
namespace {

TEST(CpuListSlotsTest, ARangeSpansUpToItsLastCpu) { EXPECT_EQ(CpuListSlots("0-1"), 2); }

TEST(CpuListSlotsTest, ASingleCpuIsOneSlot) { EXPECT_EQ(CpuListSlots("0"), 1); }

TEST(CpuListSlotsTest, GapsStillCountUpToTheHighestCpu) {
  EXPECT_EQ(CpuListSlots("0-3,8"), 9);
  EXPECT_EQ(CpuListSlots("4,0-1"), 5);
}

TEST(CpuListSlotsTest, TheKernelsTrailingNewlineIsIgnored) { EXPECT_EQ(CpuListSlots("0-7\n"), 8); }

TEST(CpuListSlotsTest, NothingReadableIsNoSlot) {
  EXPECT_EQ(CpuListSlots(""), 0);
  EXPECT_EQ(CpuListSlots("garbage"), 0);
}

}  // namespace
}  // namespace ipnfs
