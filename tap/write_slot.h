// WriteSlot: one write of an attached link in flight: the packet it transmits, referenced (never
// copied) until the write completes, and the header and vectors the kernel reads with it.
//
// Owned by the event loop's link, which keeps it at a fixed address while a write on it is in
// flight (the kernel reads the vectors and the bytes asynchronously). Event loop thread only.
#ifndef IPNFS_TAP_WRITE_SLOT_H_
#define IPNFS_TAP_WRITE_SLOT_H_

#include <liburing.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"
#include "core/offload.h"
#include "core/packet.h"

namespace ipnfs {

struct WriteSlot {
  // Room for a header written in front of the frame (virtio-net: 10 or 12 bytes).
  static constexpr size_t kMaxHeader = 16;

  PacketRef packet;   // The frame being written; null when the slot is free.
  size_t length = 0;  // Bytes the write must take (header and frame) to be complete.
  uint8_t header[kMaxHeader] = {};
  iovec vectors[2] = {};
};

// Prepares the write of `slot`'s packet to `fd` (a tap or a packet socket, both opened with a
// virtio-net header), the header first: the packet's offload, or zeros for a plain frame.
inline void PrepareVnetWrite(io_uring_sqe* sqe, int fd, WriteSlot& slot) {
  static_assert(Offload::kVnetHeaderBytes <= WriteSlot::kMaxHeader);
  absl::Span<const uint8_t> frame = slot.packet->bytes();
  slot.packet->offload().ToVnetHeader(slot.header);
  slot.vectors[0] = {.iov_base = slot.header, .iov_len = Offload::kVnetHeaderBytes};
  slot.vectors[1] = {.iov_base = const_cast<uint8_t*>(frame.data()), .iov_len = frame.size()};
  slot.length = Offload::kVnetHeaderBytes + frame.size();
  io_uring_prep_writev(sqe, fd, slot.vectors, 2, 0);
}

}  // namespace ipnfs

#endif  // IPNFS_TAP_WRITE_SLOT_H_
