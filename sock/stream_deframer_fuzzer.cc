// A libFuzzer target for StreamDeframer: the input is a maximum frame size, cut points and a byte
// stream; the stream is fed in the pieces the cuts make (each piece in a buffer of its own, wiped
// once used) and the target aborts when an invariant breaks:
//   - the frames, each after its 4-byte big-endian length, rebuild exactly a prefix of the stream;
//   - no frame is empty or above the maximum;
//   - the deframer reports a bad length iff the stream holds a length prefix of 0 or above the
//     maximum at a frame boundary, and then the right one;
//   - otherwise what is left after the last frame is exactly the incomplete frame it holds.
// Build and run it with scripts/fuzz.sh (clang). Single-threaded, like libFuzzer's callbacks.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "absl/types/span.h"
#include "sock/stream_deframer.h"

namespace ipnfs {
namespace {

void Check(bool holds, const char* invariant) {
  if (holds) return;
  std::fprintf(stderr, "stream_deframer_fuzzer: invariant broken: %s\n", invariant);
  std::abort();
}

uint32_t Read32(const uint8_t* bytes) {
  return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 |
         uint32_t{bytes[3]};
}

// What the stream holds, read the simple way: the offset where its first bad length prefix is
// (or none), and the offset after the last whole frame.
struct Reference {
  bool bad = false;
  uint32_t bad_length = 0;
  size_t whole = 0;  // Bytes of whole frames (with their headers) from the start.
};

Reference Read(absl::Span<const uint8_t> stream, size_t max_frame) {
  Reference reference;
  size_t at = 0;
  while (stream.size() - at >= StreamDeframer::kHeaderBytes) {
    const uint32_t length = Read32(stream.data() + at);
    if (length == 0 || length > max_frame) {
      reference.bad = true;
      reference.bad_length = length;
      break;
    }
    if (stream.size() - at - StreamDeframer::kHeaderBytes < length) break;
    at += StreamDeframer::kHeaderBytes + length;
  }
  reference.whole = at;
  return reference;
}

void Run(absl::Span<const uint8_t> data) {
  if (data.size() < 3) return;
  // Small maxima (1..4096) so that bad lengths and frames split many ways both come up.
  const size_t max_frame = 1 + ((size_t{data[0]} << 8 | data[1]) % 4096);
  const size_t cut_count = data[2] % 32;
  data.remove_prefix(3);
  std::vector<size_t> cuts;
  for (size_t i = 0; i < cut_count && data.size() >= 2; ++i) {
    cuts.push_back(size_t{data[0]} << 8 | data[1]);
    data.remove_prefix(2);
  }
  const absl::Span<const uint8_t> stream = data;
  for (size_t& cut : cuts) cut = std::min(cut, stream.size());
  std::sort(cuts.begin(), cuts.end());
  cuts.push_back(stream.size());

  StreamDeframer deframer(max_frame);
  std::vector<uint8_t> rebuilt;  // Frames with their headers, as they came out.
  bool bad = false;
  size_t frames = 0;
  size_t start = 0;
  for (size_t end : cuts) {
    std::vector<uint8_t> piece(stream.begin() + start, stream.begin() + end);
    start = end;
    deframer.Feed(piece);
    absl::Span<const uint8_t> frame;
    StreamDeframer::Result result;
    while ((result = deframer.Next(frame)) == StreamDeframer::Result::kFrame) {
      Check(!frame.empty(), "no frame is empty");
      Check(frame.size() <= max_frame, "no frame is above the maximum");
      // Take the buffer of every other assembled frame: the span must stay valid with it.
      std::unique_ptr<uint8_t[]> buffer;
      if (++frames % 2 == 0) buffer = deframer.TakeFrameBuffer();
      Check(buffer == nullptr || buffer.get() == frame.data(), "a taken buffer holds its frame");
      const uint32_t length = static_cast<uint32_t>(frame.size());
      const uint8_t header[] = {static_cast<uint8_t>(length >> 24),
                                static_cast<uint8_t>(length >> 16),
                                static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
      rebuilt.insert(rebuilt.end(), header, header + sizeof(header));
      rebuilt.insert(rebuilt.end(), frame.begin(), frame.end());
    }
    std::fill(piece.begin(), piece.end(), 0xa5);  // A frame must not point into a used piece.
    if (result == StreamDeframer::Result::kBadLength) {
      bad = true;
      break;
    }
  }

  const Reference reference = Read(stream, max_frame);
  Check(
      rebuilt.size() <= stream.size() && std::equal(rebuilt.begin(), rebuilt.end(), stream.begin()),
      "the frames rebuild a prefix of the stream");
  Check(rebuilt.size() == reference.whole, "every whole frame came out");
  Check(bad == reference.bad, "a bad length is reported iff the stream has one");
  if (bad) {
    Check(deframer.bad_length() == reference.bad_length, "the bad length is the right one");
  } else {
    Check(deframer.partial_bytes() == stream.size() - reference.whole,
          "what is left is the incomplete frame held");
  }
}

}  // namespace
}  // namespace ipnfs

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ipnfs::Run(absl::Span<const uint8_t>(data, size));
  return 0;
}
