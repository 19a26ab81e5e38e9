// Tests for offload resolution on hand-built packets. The expected checksums were computed
// independently (a few lines of Python's struct module over the same bytes), not by this code.
#include "core/segmentation.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <vector>

#include "core/checksum.h"
#include "core/errno_status.h"
#include "policies/frame_builder.h"

namespace ipnfs {
namespace {

using Bytes = std::vector<uint8_t>;

std::vector<Bytes> Resolve(const Bytes& packet, const Offload& offload) {
  std::vector<Bytes> frames;
  const absl::Status resolved = ResolveOffload(packet, offload, [&](absl::Span<const uint8_t> f) {
    frames.emplace_back(f.begin(), f.end());
  });
  EXPECT_TRUE(resolved.ok()) << resolved;
  return frames;
}

constexpr uint8_t kFin = 0x01, kPsh = 0x08, kAck = 0x10, kCwr = 0x80;
constexpr size_t kTcp4 = 14 + 20;  // Where the TCP header starts.
constexpr size_t kTcp6 = 14 + 40;

TEST(Segmentation, Tcp4GsoPacketBecomesSegmentsWithKnownChecksums) {
  const Bytes packet = Tcp4Packet(3000, kCwr | kAck | kPsh | kFin);
  const Offload offload{.flags = Offload::kNeedsChecksum,
                        .gso_type = Offload::kGsoTcp4,
                        .hdr_len = 54,
                        .gso_size = 1400,
                        .csum_start = 34,
                        .csum_offset = 16};

  const std::vector<Bytes> frames = Resolve(packet, offload);

  ASSERT_EQ(frames.size(), 3u);
  const size_t sizes[] = {1454, 1454, 254};
  const uint16_t ip_checksums[] = {0x0f22, 0x0f21, 0x13d0};
  const uint16_t tcp_checksums[] = {0x5638, 0x4938, 0x5de4};
  const uint8_t flags[] = {kCwr | kAck, kAck, kAck | kPsh | kFin};
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const Bytes& f = frames[i];
    ASSERT_EQ(f.size(), sizes[i]);
    EXPECT_EQ(At16(f, 14 + 2), sizes[i] - 14);  // IPv4 total length.
    EXPECT_EQ(At16(f, 14 + 4), 0x1234 + i);     // IPv4 id.
    EXPECT_EQ(At16(f, 14 + 10), ip_checksums[i]);
    EXPECT_EQ(At32(f, kTcp4 + 4), 0x01020304 + 1400 * i);
    EXPECT_EQ(f[kTcp4 + 13], flags[i]);
    EXPECT_EQ(At16(f, kTcp4 + 16), tcp_checksums[i]);
    EXPECT_EQ(f[kTcp4 + 20], static_cast<uint8_t>((1400 * i) % 251));  // First payload byte.
  }
}

TEST(Segmentation, Tcp6GsoPacketBecomesSegmentsAndTheSequenceWraps) {
  const Bytes packet = Tcp6Packet(2000, 0xfffffff0, kAck | kPsh);
  const Offload offload{.flags = Offload::kNeedsChecksum,
                        .gso_type = Offload::kGsoTcp6,
                        .gso_size = 1200,
                        .csum_start = 54,
                        .csum_offset = 16};

  const std::vector<Bytes> frames = Resolve(packet, offload);

  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].size(), 1274u);
  EXPECT_EQ(frames[1].size(), 874u);
  EXPECT_EQ(At16(frames[0], 14 + 4), 1220);  // IPv6 payload length.
  EXPECT_EQ(At16(frames[1], 14 + 4), 820);
  EXPECT_EQ(At32(frames[1], kTcp6 + 4), 0xfffffff0u + 1200u);  // Wrapped around.
  EXPECT_EQ(frames[0][kTcp6 + 13], kAck);
  EXPECT_EQ(frames[1][kTcp6 + 13], kAck | kPsh);
  EXPECT_EQ(At16(frames[0], kTcp6 + 16), 0x45cd);
  EXPECT_EQ(At16(frames[1], kTcp6 + 16), 0xadd8);
}

TEST(Segmentation, LargestResolvedFrameIsOneFullSegment) {
  const Bytes packet = Tcp4Packet(3000, kAck);
  const Offload offload{.gso_type = Offload::kGsoTcp4, .gso_size = 1400};
  absl::StatusOr<size_t> largest = LargestResolvedFrame(packet, offload);
  ASSERT_TRUE(largest.ok()) << largest.status();
  EXPECT_EQ(*largest, 1454u);
  EXPECT_EQ(*LargestResolvedFrame(packet, Offload{}), packet.size());
}

TEST(Segmentation, PacketWithinOneSegmentStaysOneFrameWithItsChecksumCompleted) {
  const Bytes packet = Tcp4Packet(3000, kAck);
  const Offload offload{.flags = Offload::kNeedsChecksum,
                        .gso_type = Offload::kGsoTcp4,
                        .gso_size = 4000,
                        .csum_start = 34,
                        .csum_offset = 16};
  const std::vector<Bytes> frames = Resolve(packet, offload);
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_EQ(frames[0].size(), packet.size());
  // A receiver's check: the sum over pseudo header and segment is all ones.
  uint32_t sum = ChecksumAdd(0, {frames[0].data() + 14 + 12, 8});
  sum += 6 + 20 + 3000;
  EXPECT_EQ(ChecksumFinish(ChecksumAdd(sum, {frames[0].data() + kTcp4, 3020})), 0);
}

TEST(Segmentation, NeedsChecksumOnlyCompletesTheChecksum) {
  Bytes packet = Tcp4Packet(100, kAck);
  // The kernel leaves the pseudo-header sum in the field.
  uint32_t pseudo = ChecksumAdd(0, {packet.data() + 14 + 12, 8}) + 6 + 120;
  while (pseudo >> 16) pseudo = (pseudo & 0xffff) + (pseudo >> 16);
  packet[kTcp4 + 16] = static_cast<uint8_t>(pseudo >> 8);
  packet[kTcp4 + 17] = static_cast<uint8_t>(pseudo);
  const Offload offload{.flags = Offload::kNeedsChecksum, .csum_start = 34, .csum_offset = 16};

  const std::vector<Bytes> frames = Resolve(packet, offload);

  ASSERT_EQ(frames.size(), 1u);
  uint32_t sum = ChecksumAdd(0, {frames[0].data() + 14 + 12, 8}) + 6 + 120;
  EXPECT_EQ(ChecksumFinish(ChecksumAdd(sum, {frames[0].data() + kTcp4, 120})), 0);
  EXPECT_EQ(Bytes(frames[0].begin(), frames[0].begin() + kTcp4 + 16),
            Bytes(packet.begin(), packet.begin() + kTcp4 + 16));
}

TEST(Segmentation, PlainFrameIsEmittedAsItIs) {
  const Bytes packet = Tcp4Packet(10, kAck);
  const std::vector<Bytes> frames = Resolve(packet, Offload{});
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], packet);
}

TEST(Segmentation, WhatCannotBeSegmentedIsEinvalAndEmitsNothing) {
  int emitted = 0;
  auto count = [&](absl::Span<const uint8_t>) { ++emitted; };
  const Bytes v4 = Tcp4Packet(3000, kAck);
  Bytes udp = v4;
  udp[14 + 9] = 17;
  const Offload tso4{.gso_type = Offload::kGsoTcp4, .gso_size = 1400};
  EXPECT_EQ(StatusToErrno(ResolveOffload(udp, tso4, count)), EINVAL);
  EXPECT_EQ(StatusToErrno(ResolveOffload(
                v4, Offload{.gso_type = Offload::kGsoTcp6, .gso_size = 1400}, count)),
            EINVAL);
  EXPECT_EQ(StatusToErrno(ResolveOffload(
                v4, Offload{.gso_type = Offload::kGsoUdpL4, .gso_size = 1400}, count)),
            EINVAL);
  EXPECT_EQ(StatusToErrno(ResolveOffload(v4, Offload{.gso_type = Offload::kGsoTcp4}, count)),
            EINVAL);
  EXPECT_EQ(StatusToErrno(ResolveOffload(Bytes(v4.begin(), v4.begin() + 40), tso4, count)), EINVAL);
  EXPECT_EQ(
      StatusToErrno(ResolveOffload(
          v4, Offload{.flags = Offload::kNeedsChecksum, .csum_start = 3050, .csum_offset = 16},
          count)),
      EINVAL);
  EXPECT_EQ(emitted, 0);
}

TEST(Segmentation, VnetHeaderRoundTripsLittleEndian) {
  const uint8_t header[Offload::kVnetHeaderBytes] = {1, 4, 0x4a, 0, 0xa0, 0x05, 0x36, 0, 0x10, 0};
  const Offload offload = Offload::FromVnetHeader(header);
  EXPECT_EQ(offload, (Offload{.flags = 1,
                              .gso_type = Offload::kGsoTcp6,
                              .hdr_len = 74,
                              .gso_size = 1440,
                              .csum_start = 54,
                              .csum_offset = 16}));
  uint8_t written[Offload::kVnetHeaderBytes] = {};
  offload.ToVnetHeader(written);
  EXPECT_EQ(Bytes(written, written + 10), Bytes(header, header + 10));
}

}  // namespace
}  // namespace ipnfs
