#include "core/checksum.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace ipnfs {
namespace {

// The ones' complement sum of bytes[start, end) plus `pseudo_header`, as a receiver verifies a
// transport checksum: 0xffff when it is correct.
uint16_t Verify(const std::vector<uint8_t>& bytes, size_t start, uint16_t pseudo_header) {
  uint32_t sum = pseudo_header;
  for (size_t i = start; i < bytes.size(); i += 2) {
    sum += static_cast<uint32_t>(bytes[i] << 8 | (i + 1 < bytes.size() ? bytes[i + 1] : 0));
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

TEST(Checksum, CompletedChecksumVerifies) {
  // 14 bytes of Ethernet header, then a "transport header" whose checksum field (offset 6) holds
  // a pseudo-header sum, as the kernel leaves it for offload.
  std::vector<uint8_t> frame(14, 0xaa);
  const std::vector<uint8_t> segment = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x0f,
                                        0x0e, 0x01, 0x02, 0x03, 0x04, 0x05};
  frame.insert(frame.end(), segment.begin(), segment.end());
  const uint16_t pseudo_header = 0x0f0e;
  ASSERT_TRUE(CompletePartialChecksum(absl::MakeSpan(frame), 14, 6));
  EXPECT_EQ(Verify(frame, 14, pseudo_header), 0xffff);
  EXPECT_NE(frame[14 + 6] << 8 | frame[14 + 7], pseudo_header);
  EXPECT_EQ(frame[0], 0xaa);
}

TEST(Checksum, ChecksumOutsideTheFrameIsRefused) {
  std::vector<uint8_t> frame(20, 1);
  const std::vector<uint8_t> before = frame;
  EXPECT_FALSE(CompletePartialChecksum(absl::MakeSpan(frame), 21, 0));
  EXPECT_FALSE(CompletePartialChecksum(absl::MakeSpan(frame), 14, 5));
  EXPECT_FALSE(CompletePartialChecksum(absl::MakeSpan(frame), 14, SIZE_MAX - 3));
  EXPECT_EQ(frame, before);
  EXPECT_TRUE(CompletePartialChecksum(absl::MakeSpan(frame), 14, 4));
}

TEST(Checksum, Ipv4HeaderChecksumIsTheKnownValue) {
  // The IPv4 header example of RFC 1071's companion literature (checksum 0xb861).
  const std::vector<uint8_t> header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                       0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(ChecksumFinish(ChecksumAdd(0, header)), 0xb861);
}

}  // namespace
}  // namespace ipnfs
