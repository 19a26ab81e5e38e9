#include "sock/write_batch.h"

#include <cerrno>

namespace ipnfs {
namespace {

// The peer closed its end or is gone: nothing more can be written.
bool PeerGone(int error_number) { return error_number == EPIPE || error_number == ECONNRESET; }

}  // namespace

WriteBatch::WriteBatch(FaceKind kind, size_t max_packets) : kind_(kind), max_packets_(max_packets) {
  packets_.reserve(max_packets);
  if (kind == FaceKind::kSeqpacket) {
    sending_.reserve(max_packets);
    results_.reserve(max_packets);
  } else {
    headers_.resize(max_packets);
    vectors_.resize(2 * max_packets);
  }
}

void WriteBatch::Start() {
  busy_ = true;
  error_ = 0;
  const size_t count = packets_.size();
  if (kind_ == FaceKind::kSeqpacket) {
    sending_.clear();
    for (size_t i = 0; i < count; ++i) sending_.push_back(static_cast<uint16_t>(i));
    results_.assign(count, 0);
    outstanding_ = count;
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    const absl::Span<const uint8_t> bytes = packets_[i]->bytes();
    const uint32_t length = static_cast<uint32_t>(bytes.size());
    headers_[i] = {static_cast<uint8_t>(length >> 24), static_cast<uint8_t>(length >> 16),
                   static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
    vectors_[2 * i] = {.iov_base = headers_[i].data(), .iov_len = kHeaderBytes};
    vectors_[2 * i + 1] = {.iov_base = const_cast<uint8_t*>(bytes.data()), .iov_len = bytes.size()};
  }
  first_vector_ = 0;
  message_ = msghdr{};
  message_.msg_iov = vectors_.data();
  message_.msg_iovlen = 2 * count;
}

WriteBatch::Next WriteBatch::Sent(size_t i, int result) {
  results_[i] = result;
  if (--outstanding_ > 0) return Next::kWait;
  // The whole chain is in. A failed send broke the link: the sends after it were cancelled
  // unsent, and go again, in order; the failed packet itself is dropped (too big for the socket,
  // no memory...), unless the peer is gone.
  size_t again = 0;
  for (size_t k = 0; k < sending_.size(); ++k) {
    const int error_number = results_[k] < 0 ? -results_[k] : 0;
    if (PeerGone(error_number)) {
      error_ = error_number;
      Finish();
      return Next::kClose;
    }
    if (error_number == ECANCELED) sending_[again++] = sending_[k];
  }
  if (again == 0) {
    Finish();
    return Next::kDone;
  }
  sending_.resize(again);
  results_.assign(again, 0);
  outstanding_ = again;
  return Next::kResend;
}

WriteBatch::Next WriteBatch::StreamSent(int result) {
  if (result < 0) {
    if (result == -EINTR || result == -EAGAIN) return Next::kResend;
    // Anything else leaves the stream where it is, perhaps inside a frame: it cannot go on.
    error_ = -result;
    Finish();
    return Next::kClose;
  }
  // A short write: skip what went, send the rest (a frame is never torn).
  size_t written = static_cast<size_t>(result);
  const size_t count = 2 * packets_.size();
  while (first_vector_ < count && written >= vectors_[first_vector_].iov_len) {
    written -= vectors_[first_vector_].iov_len;
    ++first_vector_;
  }
  if (first_vector_ == count) {
    Finish();
    return Next::kDone;
  }
  iovec& partial = vectors_[first_vector_];
  partial.iov_base = static_cast<uint8_t*>(partial.iov_base) + written;
  partial.iov_len -= written;
  message_.msg_iov = vectors_.data() + first_vector_;
  message_.msg_iovlen = count - first_vector_;
  return Next::kResend;
}

void WriteBatch::Finish() {
  packets_.clear();  // Pins no packet while idle.
  busy_ = false;
}

}  // namespace ipnfs
