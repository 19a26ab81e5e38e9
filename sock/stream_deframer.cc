#include "sock/stream_deframer.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace ipnfs {
namespace {

uint32_t BigEndian32(const uint8_t* bytes) {
  return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 | uint32_t{bytes[2]} << 8 |
         uint32_t{bytes[3]};
}

}  // namespace

void StreamDeframer::Feed(absl::Span<const uint8_t> bytes) { input_ = bytes; }

size_t StreamDeframer::partial_bytes() const {
  return length_ != 0 ? kHeaderBytes + assembled_ : header_bytes_;
}

bool StreamDeframer::StartFrame(uint32_t length) {
  if (length == 0 || length > max_frame_) {
    bad_ = true;
    bad_length_ = length;
    input_ = {};
    return false;
  }
  length_ = length;
  assembled_ = 0;
  assembly_ = std::make_unique_for_overwrite<uint8_t[]>(length);
  return true;
}

StreamDeframer::Result StreamDeframer::Next(absl::Span<const uint8_t>& frame) {
  done_.reset();
  if (bad_) return Result::kBadLength;
  if (length_ == 0) {
    if (header_bytes_ == 0 && input_.size() >= kHeaderBytes) {
      // The common case: a whole header in the bytes fed, often the whole frame too.
      const uint32_t length = BigEndian32(input_.data());
      if (length == 0 || length > max_frame_) {
        StartFrame(length);
        return Result::kBadLength;
      }
      if (input_.size() - kHeaderBytes >= length) {
        frame = input_.subspan(kHeaderBytes, length);
        input_.remove_prefix(kHeaderBytes + length);
        return Result::kFrame;
      }
      input_.remove_prefix(kHeaderBytes);
      StartFrame(length);
    } else {
      const size_t taken = std::min(kHeaderBytes - header_bytes_, input_.size());
      if (taken > 0) std::memcpy(header_ + header_bytes_, input_.data(), taken);
      input_.remove_prefix(taken);
      header_bytes_ += taken;
      if (header_bytes_ < kHeaderBytes) return Result::kNeedMore;
      header_bytes_ = 0;
      if (!StartFrame(BigEndian32(header_))) return Result::kBadLength;
    }
  }
  // A frame split across feeds: gather it in its own buffer.
  const size_t taken = std::min<size_t>(length_ - assembled_, input_.size());
  if (taken > 0) std::memcpy(assembly_.get() + assembled_, input_.data(), taken);
  input_.remove_prefix(taken);
  assembled_ += taken;
  if (assembled_ < length_) return Result::kNeedMore;
  done_ = std::move(assembly_);
  frame = absl::Span<const uint8_t>(done_.get(), length_);
  length_ = 0;
  assembled_ = 0;
  return Result::kFrame;
}

}  // namespace ipnfs
