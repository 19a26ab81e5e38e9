// StreamDeframer: cuts the byte stream of a SOCK_STREAM face into packets, each sent after its
// length as 4 bytes big-endian (QEMU's `-netdev stream` framing).
//
// Pure logic: bytes are fed as they were received, frames come out whole. A frame that lies
// entirely in the bytes fed is handed out in place (no copy); one split across feeds is assembled
// in a buffer of its own size, which the caller may take over (so it enters the network without
// another copy). Between frames the deframer holds nothing but 4 header bytes, so an idle
// connection pins no memory. Owned by one connection; thread-compatible.
#ifndef IPNFS_SOCK_STREAM_DEFRAMER_H_
#define IPNFS_SOCK_STREAM_DEFRAMER_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/types/span.h"

namespace ipnfs {

class StreamDeframer {
 public:
  static constexpr size_t kHeaderBytes = 4;

  enum class Result {
    kFrame,      // A whole frame: see Next().
    kNeedMore,   // Every byte fed is used up; the start of an incomplete frame is kept.
    kBadLength,  // A length prefix of 0 or above the maximum: the stream cannot go on.
  };

  // Frames of 1 to `max_frame` bytes are valid.
  explicit StreamDeframer(size_t max_frame) : max_frame_(max_frame) {}
  StreamDeframer(const StreamDeframer&) = delete;
  StreamDeframer& operator=(const StreamDeframer&) = delete;

  // The maximum for length prefixes read from now on (the network's MTU may change).
  void set_max_frame(size_t max_frame) { max_frame_ = max_frame; }

  // The next bytes of the stream. Only once Next() said kNeedMore (or before the first call);
  // `bytes` must stay valid and unchanged until Next() says kNeedMore again.
  void Feed(absl::Span<const uint8_t> bytes);

  // Cuts the next frame from the bytes fed. kFrame: `frame` is its payload, valid until the next
  // call of Next() or Feed(). kBadLength stays the answer from then on (bad_length() says what
  // the prefix was).
  Result Next(absl::Span<const uint8_t>& frame);

  // Right after Next() gave a frame that was assembled across feeds: the buffer holding it, with
  // the frame at its start (the frame's span stays valid as long as the buffer lives). Null for a
  // frame handed out in place, or when taken already.
  std::unique_ptr<uint8_t[]> TakeFrameBuffer() { return std::move(done_); }

  uint32_t bad_length() const { return bad_length_; }
  // Bytes of an incomplete frame held (its header included): 0 at a frame boundary.
  size_t partial_bytes() const;

 private:
  // Checks the length in header_ and starts assembling its frame (or fails).
  bool StartFrame(uint32_t length);

  size_t max_frame_;
  absl::Span<const uint8_t> input_;    // Fed and not cut yet.
  uint8_t header_[kHeaderBytes] = {};  // A length prefix split across feeds.
  size_t header_bytes_ = 0;            // How much of it came.
  uint32_t length_ = 0;                // Of the frame being assembled (0: none).
  std::unique_ptr<uint8_t[]> assembly_;
  size_t assembled_ = 0;
  std::unique_ptr<uint8_t[]> done_;  // The last assembled frame, until the next call.
  bool bad_ = false;
  uint32_t bad_length_ = 0;
};

}  // namespace ipnfs

#endif  // IPNFS_SOCK_STREAM_DEFRAMER_H_
