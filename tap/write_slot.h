// WriteSlot: one write of an attached link in flight: the packet it transmits, referenced (never
// copied) until the write completes, and the header and vectors the kernel reads with it.
//
// Owned by the event loop's link, which keeps it at a fixed address while a write on it is in
// flight (the kernel reads the vectors and the bytes asynchronously). Event loop thread only.
#ifndef IPNFS_TAP_WRITE_SLOT_H_
#define IPNFS_TAP_WRITE_SLOT_H_

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "core/packet.h"

namespace ipnfs {

struct WriteSlot {
  // Room for a header written in front of the frame (virtio-net: 10 or 12 bytes).
  static constexpr size_t kMaxHeader = 16;

  PacketRef packet;    // The frame being written; null when the slot is free.
  size_t length = 0;   // Bytes the write must take (header and frame) to be complete.
  bool busy = false;   // A write on this slot is in flight.
  uint8_t header[kMaxHeader] = {};
  iovec vectors[2] = {};
};

}  // namespace ipnfs

#endif  // IPNFS_TAP_WRITE_SLOT_H_
