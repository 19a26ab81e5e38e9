#include "policies/mac_table.h"

#include <gtest/gtest.h>

#include "policies/frame_builder.h"

namespace ipnfs {
namespace {

using Learned = MacTable::Learned;

const absl::Time kT0 = absl::FromUnixSeconds(1'000'000);

PolicyOptions Options(absl::Duration ageing, size_t max_macs) {
  PolicyOptions options;
  options.ageing = ageing;
  options.max_macs = max_macs;
  return options;
}

TEST(MacTable, FindsALearnedMacOnThePortItWasSeenOn) {
  MacTable table;
  EXPECT_EQ(table.Learn(TestMac(1), 0, 7, kT0), Learned::kNew);
  EXPECT_EQ(table.Lookup(TestMac(1), 0, kT0), PortId{7});
  EXPECT_EQ(table.Lookup(TestMac(2), 0, kT0), std::nullopt);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.stats().learned, 1u);
}

TEST(MacTable, KeepsTheSameMacOnTwoVlansAsSeparateEntries) {
  MacTable table;
  table.Learn(TestMac(1), 10, 1, kT0);
  table.Learn(TestMac(1), 20, 2, kT0);
  EXPECT_EQ(table.Lookup(TestMac(1), 10, kT0), PortId{1});
  EXPECT_EQ(table.Lookup(TestMac(1), 20, kT0), PortId{2});
  EXPECT_EQ(table.Lookup(TestMac(1), 0, kT0), std::nullopt);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.stats().moves, 0u);
}

TEST(MacTable, MovesAMacSeenOnAnotherPortAndCountsTheMove) {
  MacTable table;
  table.Learn(TestMac(1), 0, 1, kT0);
  EXPECT_EQ(table.Learn(TestMac(1), 0, 2, kT0 + absl::Seconds(1)), Learned::kMoved);
  EXPECT_EQ(table.Lookup(TestMac(1), 0, kT0 + absl::Seconds(1)), PortId{2});
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.stats().moves, 1u);
}

TEST(MacTable, SeeingAMacAgainOnItsPortIsARefreshNotAMove) {
  MacTable table;
  table.Learn(TestMac(1), 0, 1, kT0);
  EXPECT_EQ(table.Learn(TestMac(1), 0, 1, kT0 + absl::Seconds(1)), Learned::kRefreshed);
  EXPECT_EQ(table.stats().moves, 0u);
  EXPECT_EQ(table.stats().learned, 1u);
}

TEST(MacTable, AnEntryExpiresExactlyAgeingAfterItWasLastSeen) {
  MacTable table(Options(absl::Seconds(300), 4096));
  table.Learn(TestMac(1), 0, 1, kT0);
  EXPECT_EQ(table.Lookup(TestMac(1), 0, kT0 + absl::Seconds(300) - absl::Nanoseconds(1)),
            PortId{1});
  EXPECT_EQ(table.Lookup(TestMac(1), 0, kT0 + absl::Seconds(300)), std::nullopt);
  EXPECT_EQ(table.size(), 1u);  // Not used, but held until Expire().
}

TEST(MacTable, SeeingAMacAgainRestartsItsAgeing) {
  MacTable table(Options(absl::Seconds(300), 4096));
  table.Learn(TestMac(1), 0, 1, kT0);
  table.Learn(TestMac(1), 0, 1, kT0 + absl::Seconds(200));
  EXPECT_EQ(table.Lookup(TestMac(1), 0, kT0 + absl::Seconds(499)), PortId{1});
  EXPECT_EQ(table.Lookup(TestMac(1), 0, kT0 + absl::Seconds(500)), std::nullopt);
}

TEST(MacTable, ExpireRemovesAndCountsOnlyExpiredEntries) {
  MacTable table(Options(absl::Seconds(300), 4096));
  table.Learn(TestMac(1), 0, 1, kT0);
  table.Learn(TestMac(2), 0, 1, kT0 + absl::Seconds(100));
  table.Expire(kT0 + absl::Seconds(300));
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.stats().aged, 1u);
  EXPECT_EQ(table.Lookup(TestMac(2), 0, kT0 + absl::Seconds(300)), PortId{1});
}

TEST(MacTable, AnExpiredEntrySeenOnAnotherPortIsLearnedAnewNotMoved) {
  MacTable table(Options(absl::Seconds(300), 4096));
  table.Learn(TestMac(1), 0, 1, kT0);
  EXPECT_EQ(table.Learn(TestMac(1), 0, 2, kT0 + absl::Seconds(300)), Learned::kNew);
  EXPECT_EQ(table.stats().moves, 0u);
  EXPECT_EQ(table.stats().learned, 2u);
  EXPECT_EQ(table.Lookup(TestMac(1), 0, kT0 + absl::Seconds(300)), PortId{2});
}

TEST(MacTable, LearnsNothingNewWhenFullAndCountsWhatItMissed) {
  MacTable table(Options(absl::Seconds(300), 2));
  table.Learn(TestMac(1), 0, 1, kT0);
  table.Learn(TestMac(2), 0, 1, kT0);
  EXPECT_EQ(table.Learn(TestMac(3), 0, 1, kT0), Learned::kTableFull);
  EXPECT_EQ(table.Learn(TestMac(1), 5, 1, kT0), Learned::kTableFull);
  EXPECT_EQ(table.Lookup(TestMac(3), 0, kT0), std::nullopt);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.stats().table_full, 2u);
}

TEST(MacTable, StillRefreshesAndMovesItsEntriesWhenFull) {
  MacTable table(Options(absl::Seconds(300), 1));
  table.Learn(TestMac(1), 0, 1, kT0);
  EXPECT_EQ(table.Learn(TestMac(1), 0, 1, kT0), Learned::kRefreshed);
  EXPECT_EQ(table.Learn(TestMac(1), 0, 2, kT0), Learned::kMoved);
  EXPECT_EQ(table.stats().table_full, 0u);
}

TEST(MacTable, ShrinkingTheBoundEvictsNothingAndStopsLearningUntilBelowIt) {
  MacTable table(Options(absl::Seconds(300), 10));
  table.Learn(TestMac(1), 0, 1, kT0);
  table.Learn(TestMac(2), 0, 2, kT0);
  table.Learn(TestMac(3), 0, 3, kT0);
  table.Configure(Options(absl::Seconds(300), 2));
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.Lookup(TestMac(3), 0, kT0), PortId{3});
  EXPECT_EQ(table.Learn(TestMac(4), 0, 1, kT0), Learned::kTableFull);
  table.Flush(1);
  table.Flush(2);
  EXPECT_EQ(table.Learn(TestMac(4), 0, 1, kT0), Learned::kNew);
}

TEST(MacTable, ANewAgeingAppliesToTheEntriesHeld) {
  MacTable table(Options(absl::Seconds(300), 10));
  table.Learn(TestMac(1), 0, 1, kT0);
  table.Configure(Options(absl::Seconds(10), 10));
  EXPECT_EQ(table.Lookup(TestMac(1), 0, kT0 + absl::Seconds(10)), std::nullopt);
}

TEST(MacTable, FlushRemovesEveryEntryOfAPortAndNoOther) {
  MacTable table;
  table.Learn(TestMac(1), 0, 1, kT0);
  table.Learn(TestMac(2), 3, 1, kT0);
  table.Learn(TestMac(3), 0, 2, kT0);
  table.Flush(1);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.stats().flushed, 2u);
  EXPECT_EQ(table.Lookup(TestMac(1), 0, kT0), std::nullopt);
  EXPECT_EQ(table.Lookup(TestMac(3), 0, kT0), PortId{2});
}

TEST(MacTable, FormatsOneLinePerEntrySortedByMacThenVlan) {
  MacTable table;
  table.Learn(TestMac(0xab), 0, 3, kT0);
  table.Learn(TestMac(0x0a), 20, 2, kT0);
  table.Learn(TestMac(0x0a), 4, 1, kT0);
  EXPECT_EQ(table.Format(kT0),
            "02:00:00:00:00:0a 4 1 0\n"
            "02:00:00:00:00:0a 20 2 0\n"
            "02:00:00:00:00:ab 0 3 0\n");
}

TEST(MacTable, FormatsAgesInWholeSecondsAndOmitsExpiredEntries) {
  MacTable table(Options(absl::Seconds(300), 10));
  table.Learn(TestMac(1), 0, 1, kT0);
  table.Learn(TestMac(2), 0, 2, kT0 + absl::Seconds(250));
  EXPECT_EQ(table.Format(kT0 + absl::Milliseconds(299'900)),
            "02:00:00:00:00:01 0 1 299\n"
            "02:00:00:00:00:02 0 2 49\n");
  EXPECT_EQ(table.Format(kT0 + absl::Seconds(300)), "02:00:00:00:00:02 0 2 50\n");
  EXPECT_EQ(MacTable().Format(kT0), "");
}

}  // namespace
}  // namespace ipnfs
