// StreamDeframer: frames come out whole and in order however the stream is cut into feeds, and a
// length prefix of 0 or above the maximum stops the stream.
#include "sock/stream_deframer.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "gtest/gtest.h"

namespace ipnfs {
namespace {

using Bytes = std::vector<uint8_t>;

// `payload` after its 4-byte big-endian length (or after `length` when given).
Bytes Framed(const Bytes& payload, int64_t length = -1) {
  const uint32_t prefix = length < 0 ? static_cast<uint32_t>(payload.size()) : length;
  Bytes framed = {static_cast<uint8_t>(prefix >> 24), static_cast<uint8_t>(prefix >> 16),
                  static_cast<uint8_t>(prefix >> 8), static_cast<uint8_t>(prefix)};
  framed.insert(framed.end(), payload.begin(), payload.end());
  return framed;
}

Bytes Concat(const std::vector<Bytes>& parts) {
  Bytes all;
  for (const Bytes& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

Bytes Payload(size_t size, uint8_t seed) {
  Bytes payload(size);
  for (size_t i = 0; i < size; ++i) payload[i] = static_cast<uint8_t>(seed + i * 7);
  return payload;
}

// What a deframer made of a stream fed in pieces.
struct Cut {
  std::vector<Bytes> frames;
  bool bad = false;
  uint32_t bad_length = 0;
  size_t partial = 0;
};

// Feeds `stream` cut at `cuts` (offsets, ascending) and collects every frame.
Cut Deframe(const Bytes& stream, const std::vector<size_t>& cuts, size_t max_frame) {
  StreamDeframer deframer(max_frame);
  Cut cut;
  size_t start = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    // Each feed lives in its own buffer, overwritten after use: a frame handed out must not
    // point into a previous feed.
    Bytes feed(stream.begin() + start, stream.begin() + end);
    deframer.Feed(feed);
    absl::Span<const uint8_t> frame;
    StreamDeframer::Result result;
    while ((result = deframer.Next(frame)) == StreamDeframer::Result::kFrame) {
      cut.frames.emplace_back(frame.begin(), frame.end());
    }
    std::fill(feed.begin(), feed.end(), 0xee);
    if (result == StreamDeframer::Result::kBadLength) {
      cut.bad = true;
      cut.bad_length = deframer.bad_length();
      return cut;
    }
    start = end;
  }
  cut.partial = deframer.partial_bytes();
  return cut;
}

TEST(StreamDeframer, CutsSeveralFramesFromOneFeed) {
  const Bytes a = Payload(60, 1), b = Payload(1, 2), c = Payload(1500, 3);
  const Cut cut = Deframe(Concat({Framed(a), Framed(b), Framed(c)}), {}, 1500);
  EXPECT_FALSE(cut.bad);
  EXPECT_EQ(cut.frames, (std::vector<Bytes>{a, b, c}));
  EXPECT_EQ(cut.partial, 0u);
}

TEST(StreamDeframer, ReassemblesFramesSplitAtEveryByteBoundary) {
  const Bytes a = Payload(9, 1), b = Payload(5, 2), c = Payload(12, 3);
  const Bytes stream = Concat({Framed(a), Framed(b), Framed(c)});
  for (size_t first = 0; first <= stream.size(); ++first) {
    for (size_t second = first; second <= stream.size(); ++second) {
      const Cut cut = Deframe(stream, {first, second}, 64);
      EXPECT_FALSE(cut.bad);
      EXPECT_EQ(cut.frames, (std::vector<Bytes>{a, b, c})) << first << " " << second;
      EXPECT_EQ(cut.partial, 0u);
    }
  }
}

TEST(StreamDeframer, ReassemblesAStreamFedOneByteAtATime) {
  const Bytes a = Payload(300, 4), b = Payload(2, 5);
  const Bytes stream = Concat({Framed(a), Framed(b)});
  std::vector<size_t> cuts;
  for (size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
  const Cut cut = Deframe(stream, cuts, 300);
  EXPECT_EQ(cut.frames, (std::vector<Bytes>{a, b}));
}

TEST(StreamDeframer, AcceptsAFrameOfExactlyTheMaximum) {
  const Bytes a = Payload(1518, 6);
  EXPECT_EQ(Deframe(Framed(a), {}, 1518).frames, (std::vector<Bytes>{a}));
  EXPECT_EQ(Deframe(Framed(a), {2, 700}, 1518).frames, (std::vector<Bytes>{a}));
}

TEST(StreamDeframer, RejectsALengthOfZero) {
  const Bytes a = Payload(10, 7);
  const Cut cut = Deframe(Concat({Framed(a), Framed({}), Framed(a)}), {}, 1500);
  EXPECT_TRUE(cut.bad);
  EXPECT_EQ(cut.bad_length, 0u);
  EXPECT_EQ(cut.frames, (std::vector<Bytes>{a}));  // The frames before it came through.
}

TEST(StreamDeframer, RejectsALengthAboveTheMaximumAtEveryCut) {
  const Bytes a = Payload(10, 8);
  const Bytes stream = Concat({Framed(a), Framed(Payload(20, 9), 1501)});
  for (size_t at = 0; at <= stream.size(); ++at) {
    const Cut cut = Deframe(stream, {at}, 1500);
    EXPECT_TRUE(cut.bad) << at;
    EXPECT_EQ(cut.bad_length, 1501u);
    EXPECT_EQ(cut.frames, (std::vector<Bytes>{a}));
  }
}

TEST(StreamDeframer, StaysStoppedAfterABadLength) {
  StreamDeframer deframer(100);
  const Bytes bad = Framed(Payload(4, 1), 0xffffffff);
  deframer.Feed(bad);
  absl::Span<const uint8_t> frame;
  EXPECT_EQ(deframer.Next(frame), StreamDeframer::Result::kBadLength);
  const Bytes good = Framed(Payload(4, 1));
  deframer.Feed(good);
  EXPECT_EQ(deframer.Next(frame), StreamDeframer::Result::kBadLength);
  EXPECT_EQ(deframer.bad_length(), 0xffffffffu);
}

TEST(StreamDeframer, KeepsAPartialFrameAtTheEndAndCountsIt) {
  const Bytes a = Payload(10, 1);
  const Bytes stream = Concat({Framed(a), Framed(Payload(30, 2))});
  const Cut in_header = Deframe(Bytes(stream.begin(), stream.begin() + 16), {}, 100);
  EXPECT_EQ(in_header.frames, (std::vector<Bytes>{a}));
  EXPECT_EQ(in_header.partial, 2u);
  const Cut in_payload = Deframe(Bytes(stream.begin(), stream.end() - 1), {20}, 100);
  EXPECT_EQ(in_payload.frames, (std::vector<Bytes>{a}));
  EXPECT_EQ(in_payload.partial, 4u + 29u);
}

TEST(StreamDeframer, HandsOverTheBufferOfAnAssembledFrameOnly) {
  StreamDeframer deframer(100);
  const Bytes whole = Framed(Payload(8, 1));
  deframer.Feed(whole);
  absl::Span<const uint8_t> frame;
  ASSERT_EQ(deframer.Next(frame), StreamDeframer::Result::kFrame);
  EXPECT_EQ(deframer.TakeFrameBuffer(), nullptr);  // In place: nothing of its own.

  const Bytes split = Framed(Payload(8, 2));
  deframer.Feed(absl::MakeConstSpan(split).subspan(0, 6));
  EXPECT_EQ(deframer.Next(frame), StreamDeframer::Result::kNeedMore);
  deframer.Feed(absl::MakeConstSpan(split).subspan(6));
  ASSERT_EQ(deframer.Next(frame), StreamDeframer::Result::kFrame);
  std::unique_ptr<uint8_t[]> buffer = deframer.TakeFrameBuffer();
  ASSERT_NE(buffer, nullptr);
  EXPECT_EQ(frame.data(), buffer.get());
  EXPECT_EQ(Bytes(frame.begin(), frame.end()), Payload(8, 2));
  EXPECT_EQ(deframer.Next(frame), StreamDeframer::Result::kNeedMore);
}

TEST(StreamDeframer, AppliesANewMaximumToTheNextPrefix) {
  StreamDeframer deframer(100);
  const Bytes stream = Concat({Framed(Payload(100, 1)), Framed(Payload(60, 2))});
  deframer.Feed(stream);
  absl::Span<const uint8_t> frame;
  ASSERT_EQ(deframer.Next(frame), StreamDeframer::Result::kFrame);
  deframer.set_max_frame(50);
  EXPECT_EQ(deframer.Next(frame), StreamDeframer::Result::kBadLength);
  EXPECT_EQ(deframer.bad_length(), 60u);
}

}  // namespace
}  // namespace ipnfs
