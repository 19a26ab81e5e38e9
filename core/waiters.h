// Waiters: how an adapter (the FUSE layer) parks a read, a write or a poll on a port without the
// network core knowing about FUSE.
//
// The core owns a waiter from the moment it is handed over until it completes it. Completion always
// happens with no network lock held, so an adapter may reply to the kernel from inside Complete().
#ifndef IPNFS_CORE_WAITERS_H_
#define IPNFS_CORE_WAITERS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/packet.h"

namespace ipnfs {

// What a read or write request does when it cannot complete now (nothing queued, or flow control
// holds it back): park until it can, or never wait and fail with EAGAIN (O_NONBLOCK).
enum class Waiting { kPark, kNever };

// One read request. Exactly one of Complete() or Fail() is called, once.
class ReadWaiter {
 public:
  // `id` identifies the request to Port::Cancel(); `max_bytes` is the reader's buffer size.
  ReadWaiter(uint64_t id, size_t max_bytes) : id_(id), max_bytes_(max_bytes) {}
  virtual ~ReadWaiter() = default;

  uint64_t id() const { return id_; }
  size_t max_bytes() const { return max_bytes_; }

  // True when the reader already gave up (e.g. interrupted) and must not be parked. Called with
  // the network lock held: it must not block or call back into the core.
  virtual bool Abandoned() const = 0;

  // Delivers the first max_bytes() bytes of `packet`.
  virtual void Complete(const Packet& packet) = 0;

  // A framed reader takes, in one completion, the oldest queued packet and every following one
  // whose frame (kFrameHeaderBytes + packet size) still fits in max_bytes() with those before it.
  static constexpr size_t kFrameHeaderBytes = 2;  // vde_plug's 2-byte big-endian length.
  virtual bool framed() const { return false; }
  // Delivers `packets` (at least one) as frames. Only called when framed().
  virtual void CompleteFrames(std::vector<PacketRef> packets) { Complete(*packets.front()); }

  // Ends the request with `error_number` (EAGAIN, EINTR, ...).
  virtual void Fail(int error_number) = 0;

 private:
  uint64_t id_;
  size_t max_bytes_;
};

// One write request waiting for room (flow control "block"). Exactly one of Complete() or Fail()
// is called, once.
class SendWaiter {
 public:
  explicit SendWaiter(uint64_t id) : id_(id) {}
  virtual ~SendWaiter() = default;

  uint64_t id() const { return id_; }

  // As ReadWaiter::Abandoned().
  virtual bool Abandoned() const = 0;
  // The packet was sent.
  virtual void Complete() = 0;
  // Nothing was sent.
  virtual void Fail(int error_number) = 0;

 private:
  uint64_t id_;
};

// One poll registration. Notify() is called at most once: when a packet is queued for the port,
// or when room frees up for a sender that had to wait.
class PollWaiter {
 public:
  virtual ~PollWaiter() = default;
  virtual void Notify() = 0;
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_WAITERS_H_
