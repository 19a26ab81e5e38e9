// WriteBatch: the packets one connection is writing to its peer, taken from its port in one go,
// and the vectors the kernel reads them from. The packets are referenced, never copied.
//
// One batch is in flight per connection at a time, which keeps a stream whole and packets in
// order: a seqpacket batch is a chain of linked sends (IOSQE_IO_LINK), one message per packet; a
// stream batch is one sendmsg of every packet after its 4-byte big-endian length, sent again from
// where a short write stopped. The loop issues the requests; this class says what to issue and
// what the completions mean.
//
// Owned by its Connection, at a fixed address while a request on it is in flight. Loop thread
// only.
#ifndef IPNFS_SOCK_WRITE_BATCH_H_
#define IPNFS_SOCK_WRITE_BATCH_H_

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "core/face_backend.h"
#include "core/packet.h"

namespace ipnfs {

class WriteBatch {
 public:
  static constexpr size_t kHeaderBytes = 4;

  // What the completions so far call for.
  enum class Next {
    kWait,    // More completions of this batch are coming.
    kResend,  // Issue the batch's requests again (stream: the rest; seqpacket: the sends that a
              // failed one cancelled).
    kDone,    // Written: the batch is free.
    kClose,   // The peer is gone (EPIPE, ECONNRESET), or the stream broke: close the connection.
  };

  // A batch of up to `max_packets` packets for a connection of `kind`.
  WriteBatch(FaceKind kind, size_t max_packets);
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  bool busy() const { return busy_; }
  size_t max_packets() const { return max_packets_; }
  // Where the packets taken from the port go, while the batch is free.
  std::vector<PacketRef>& packets() { return packets_; }

  // Starts writing the packets taken (at least one): the batch is busy until kDone or kClose.
  void Start();

  // Seqpacket: the sends to issue, in order, one per packet (linked).
  size_t sends() const { return sending_.size(); }
  absl::Span<const uint8_t> send(size_t i) const { return packets_[sending_[i]]->bytes(); }
  // Seqpacket: send `i` completed with `result` (bytes, or -errno).
  Next Sent(size_t i, int result);

  // Stream: the message to issue with sendmsg.
  const msghdr* message() const { return &message_; }
  // Stream: the sendmsg completed with `result`.
  Next StreamSent(int result);

  // The errno that made the batch say kClose.
  int error() const { return error_; }

 private:
  void Finish();

  const FaceKind kind_;
  const size_t max_packets_;
  bool busy_ = false;
  int error_ = 0;
  std::vector<PacketRef> packets_;
  // Seqpacket: the packets (indices into packets_) of the sends in flight and their results.
  std::vector<uint16_t> sending_;
  std::vector<int> results_;
  size_t outstanding_ = 0;
  // Stream: a header per packet, and the vectors [header, payload]... from the first not written.
  std::vector<std::array<uint8_t, kHeaderBytes>> headers_;
  std::vector<iovec> vectors_;
  size_t first_vector_ = 0;
  msghdr message_{};
};

}  // namespace ipnfs

#endif  // IPNFS_SOCK_WRITE_BATCH_H_
