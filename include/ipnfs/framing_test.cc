// Tests of the framed I/O codec (ipnfs/framing.h) on plain byte buffers.
#include "ipnfs/framing.h"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace {

using Bytes = std::vector<uint8_t>;

Bytes Packet(size_t size) {
  Bytes packet(size);
  for (size_t i = 0; i < size; ++i) packet[i] = static_cast<uint8_t>(i * 7 + 1);
  return packet;
}

TEST(FramingTest, EncodedHeaderIsTheLengthBigEndian) {
  uint8_t header[IPNFS_FRAME_HEADER_BYTES] = {};
  ASSERT_EQ(ipnfs_frame_encode_header(0x1234, header), IPNFS_FRAME_COMPLETE);
  EXPECT_EQ(header[0], 0x12);
  EXPECT_EQ(header[1], 0x34);
}

TEST(FramingTest, ZeroAndLargestLengthsEncode) {
  uint8_t header[IPNFS_FRAME_HEADER_BYTES] = {0xaa, 0xaa};
  ASSERT_EQ(ipnfs_frame_encode_header(0, header), IPNFS_FRAME_COMPLETE);
  EXPECT_EQ(header[0], 0);
  EXPECT_EQ(header[1], 0);
  ASSERT_EQ(ipnfs_frame_encode_header(IPNFS_MAX_FRAMED_PACKET, header), IPNFS_FRAME_COMPLETE);
  EXPECT_EQ(header[0], 0xff);
  EXPECT_EQ(header[1], 0xff);
}

TEST(FramingTest, OversizedLengthIsRefusedAndNothingWritten) {
  uint8_t header[IPNFS_FRAME_HEADER_BYTES] = {0xaa, 0xbb};
  EXPECT_EQ(ipnfs_frame_encode_header(IPNFS_MAX_FRAMED_PACKET + 1, header), IPNFS_FRAME_BAD_LENGTH);
  EXPECT_EQ(ipnfs_frame_encode_header(SIZE_MAX, header), IPNFS_FRAME_BAD_LENGTH);
  EXPECT_EQ(header[0], 0xaa);
  EXPECT_EQ(header[1], 0xbb);
}

TEST(FramingTest, AppendWritesHeaderThenPacket) {
  const Bytes packet = {'a', 'b', 'c'};
  Bytes out(8, 0xee);
  ASSERT_EQ(ipnfs_frame_append(out.data(), out.size(), packet.data(), packet.size()),
            IPNFS_FRAME_COMPLETE);
  EXPECT_EQ(out, (Bytes{0, 3, 'a', 'b', 'c', 0xee, 0xee, 0xee}));
}

TEST(FramingTest, AppendOfAnEmptyPacketWritesOnlyAHeader) {
  Bytes out(3, 0xee);
  ASSERT_EQ(ipnfs_frame_append(out.data(), out.size(), nullptr, 0), IPNFS_FRAME_COMPLETE);
  EXPECT_EQ(out, (Bytes{0, 0, 0xee}));
}

TEST(FramingTest, AppendWithoutRoomWritesNothing) {
  const Bytes packet = {'a', 'b', 'c'};
  Bytes out(4, 0xee);
  EXPECT_EQ(ipnfs_frame_append(out.data(), out.size(), packet.data(), packet.size()),
            IPNFS_FRAME_NEED_MORE);
  EXPECT_EQ(out, Bytes(4, 0xee));
}

TEST(FramingTest, AppendOfAnOversizedPacketWritesNothing) {
  const Bytes packet = Packet(IPNFS_MAX_FRAMED_PACKET + 1);
  Bytes out(packet.size() + IPNFS_FRAME_HEADER_BYTES, 0xee);
  EXPECT_EQ(ipnfs_frame_append(out.data(), out.size(), packet.data(), packet.size()),
            IPNFS_FRAME_BAD_LENGTH);
  EXPECT_EQ(out, Bytes(out.size(), 0xee));
}

TEST(FramingTest, ParseFindsThePacketAndWhereTheNextFrameStarts) {
  const Bytes buffer = {0, 2, 'h', 'i', 0, 1, '!'};
  ipnfs_frame frame{};
  ASSERT_EQ(ipnfs_frame_parse(buffer.data(), buffer.size(), &frame), IPNFS_FRAME_COMPLETE);
  EXPECT_EQ(frame.packet, buffer.data() + 2);
  EXPECT_EQ(frame.packet_bytes, 2u);
  EXPECT_EQ(frame.frame_bytes, 4u);
  ASSERT_EQ(ipnfs_frame_parse(buffer.data() + 4, buffer.size() - 4, &frame), IPNFS_FRAME_COMPLETE);
  EXPECT_EQ(frame.packet, buffer.data() + 6);
  EXPECT_EQ(frame.packet_bytes, 1u);
  EXPECT_EQ(frame.frame_bytes, 3u);
}

TEST(FramingTest, ZeroLengthFrameParsesAsAnEmptyPacket) {
  const Bytes buffer = {0, 0, 0, 1, 'x'};
  ipnfs_frame frame{};
  ASSERT_EQ(ipnfs_frame_parse(buffer.data(), buffer.size(), &frame), IPNFS_FRAME_COMPLETE);
  EXPECT_EQ(frame.packet_bytes, 0u);
  EXPECT_EQ(frame.frame_bytes, 2u);
}

TEST(FramingTest, LargestLengthParsesWhenAllItsBytesAreThere) {
  Bytes buffer(IPNFS_FRAME_HEADER_BYTES + IPNFS_MAX_FRAMED_PACKET, 0);
  buffer[0] = buffer[1] = 0xff;
  ipnfs_frame frame{};
  ASSERT_EQ(ipnfs_frame_parse(buffer.data(), buffer.size(), &frame), IPNFS_FRAME_COMPLETE);
  EXPECT_EQ(frame.packet_bytes, size_t{IPNFS_MAX_FRAMED_PACKET});
  EXPECT_EQ(frame.frame_bytes, buffer.size());
}

TEST(FramingTest, EmptyBufferNeedsMore) {
  ipnfs_frame frame{};
  EXPECT_EQ(ipnfs_frame_parse(nullptr, 0, &frame), IPNFS_FRAME_NEED_MORE);
}

TEST(FramingTest, HalfAHeaderNeedsMore) {
  const Bytes buffer = {0};
  ipnfs_frame frame{};
  EXPECT_EQ(ipnfs_frame_parse(buffer.data(), buffer.size(), &frame), IPNFS_FRAME_NEED_MORE);
}

TEST(FramingTest, TruncatedPacketNeedsMoreAndLeavesTheFrameUntouched) {
  const Bytes buffer = {0, 4, 'a', 'b', 'c'};
  ipnfs_frame frame{.packet = nullptr, .packet_bytes = 99, .frame_bytes = 99};
  EXPECT_EQ(ipnfs_frame_parse(buffer.data(), buffer.size(), &frame), IPNFS_FRAME_NEED_MORE);
  EXPECT_EQ(frame.packet, nullptr);
  EXPECT_EQ(frame.packet_bytes, 99u);
  EXPECT_EQ(frame.frame_bytes, 99u);
}

TEST(FramingTest, LengthBeyondTheBufferNeedsMoreEvenAtTheLargestLength) {
  const Bytes buffer = {0xff, 0xff, 'a'};
  ipnfs_frame frame{};
  EXPECT_EQ(ipnfs_frame_parse(buffer.data(), buffer.size(), &frame), IPNFS_FRAME_NEED_MORE);
}

TEST(FramingTest, AppendedFramesParseBackInOrder) {
  const std::vector<Bytes> packets = {Packet(0),    Packet(1),   Packet(60),
                                      Packet(1514), Packet(300), Packet(IPNFS_MAX_FRAMED_PACKET)};
  Bytes buffer(packets.size() * IPNFS_FRAME_HEADER_BYTES + 1 + 60 + 1514 + 300 +
               IPNFS_MAX_FRAMED_PACKET);
  size_t used = 0;
  for (const Bytes& packet : packets) {
    ASSERT_EQ(ipnfs_frame_append(buffer.data() + used, buffer.size() - used, packet.data(),
                                 packet.size()),
              IPNFS_FRAME_COMPLETE);
    used += IPNFS_FRAME_HEADER_BYTES + packet.size();
  }
  ASSERT_EQ(used, buffer.size());

  size_t offset = 0;
  for (const Bytes& packet : packets) {
    ipnfs_frame frame{};
    ASSERT_EQ(ipnfs_frame_parse(buffer.data() + offset, buffer.size() - offset, &frame),
              IPNFS_FRAME_COMPLETE);
    EXPECT_EQ(Bytes(frame.packet, frame.packet + frame.packet_bytes), packet);
    offset += frame.frame_bytes;
  }
  EXPECT_EQ(offset, buffer.size());
  ipnfs_frame frame{};
  EXPECT_EQ(ipnfs_frame_parse(buffer.data() + offset, 0, &frame), IPNFS_FRAME_NEED_MORE);
}

TEST(FramingTest, EncodedHeaderParsesBackForEveryLength) {
  Bytes buffer(IPNFS_FRAME_HEADER_BYTES + IPNFS_MAX_FRAMED_PACKET);
  for (size_t length = 0; length <= IPNFS_MAX_FRAMED_PACKET; ++length) {
    ASSERT_EQ(ipnfs_frame_encode_header(length, buffer.data()), IPNFS_FRAME_COMPLETE);
    ipnfs_frame frame{};
    ASSERT_EQ(ipnfs_frame_parse(buffer.data(), IPNFS_FRAME_HEADER_BYTES + length, &frame),
              IPNFS_FRAME_COMPLETE)
        << length;
    ASSERT_EQ(frame.packet_bytes, length);
    ASSERT_EQ(ipnfs_frame_parse(buffer.data(), IPNFS_FRAME_HEADER_BYTES + length - 1, &frame),
              IPNFS_FRAME_NEED_MORE)
        << length;
  }
}

}  // namespace
