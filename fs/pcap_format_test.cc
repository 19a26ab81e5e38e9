#include "fs/pcap_format.h"

#include <gtest/gtest.h>

namespace ipnfs {
namespace {

// Little-endian bytes of the machines we run on (x86-64), written out by hand.
TEST(PcapFormat, GlobalHeaderIsTheClassicMicrosecondFormat) {
  std::string out;
  AppendPcapGlobalHeader(65536, LinkType::kEthernet, &out);
  const std::string expected(
      "\xd4\xc3\xb2\xa1"   // magic
      "\x02\x00\x04\x00"   // version 2.4
      "\x00\x00\x00\x00"   // thiszone
      "\x00\x00\x00\x00"   // sigfigs
      "\x00\x00\x01\x00"   // snaplen 65536
      "\x01\x00\x00\x00",  // LINKTYPE_ETHERNET
      24);
  EXPECT_EQ(out, expected);
}

TEST(PcapFormat, User0LinkTypeIs147) {
  std::string out;
  AppendPcapGlobalHeader(1500, LinkType::kUser0, &out);
  ASSERT_EQ(out.size(), kPcapGlobalHeaderSize);
  EXPECT_EQ(out.substr(16), std::string("\xdc\x05\x00\x00\x93\x00\x00\x00", 8));
}

TEST(PcapFormat, RecordHeaderHasSecondsMicrosecondsAndBothLengths) {
  std::string out;
  AppendPcapRecordHeader(absl::FromUnixMicros(1'700'000'000'123'456), 60, 1514, &out);
  const std::string expected(
      "\x00\xf1\x53\x65"   // 1700000000 s
      "\x40\xe2\x01\x00"   // 123456 us
      "\x3c\x00\x00\x00"   // captured 60
      "\xea\x05\x00\x00",  // original 1514
      16);
  EXPECT_EQ(out, expected);
}

}  // namespace
}  // namespace ipnfs
