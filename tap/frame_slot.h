// FrameSlot: one frame buffer of an attached link, with the message header a recvmsg on it needs.
//
// Owned by the event loop's link, created when the link is attached and freed only once no read
// or write that references it is in flight (the kernel writes into it asynchronously). Used only
// on the event loop thread.
#ifndef IPNFS_TAP_FRAME_SLOT_H_
#define IPNFS_TAP_FRAME_SLOT_H_

#include <linux/if_packet.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/types/span.h"

namespace ipnfs {

struct FrameSlot {
  // Room in front of every frame, for a header the kernel adds or a VLAN tag put back.
  static constexpr size_t kHeadroom = 16;

  // A slot for frames of up to `capacity` bytes.
  explicit FrameSlot(size_t capacity)
      : buffer(std::make_unique_for_overwrite<uint8_t[]>(kHeadroom + capacity)),
        capacity(capacity) {}
  FrameSlot(const FrameSlot&) = delete;
  FrameSlot& operator=(const FrameSlot&) = delete;

  // Where a frame starts when nothing is put in front of it.
  uint8_t* frame() { return buffer.get() + kHeadroom; }

  std::unique_ptr<uint8_t[]> buffer;  // kHeadroom + capacity bytes.
  const size_t capacity;
  bool busy = false;  // A read on this slot is in flight.

  // For recvmsg on packet sockets; the kernel references these while the read is in flight.
  msghdr message{};
  iovec vectors[2] = {};
  sockaddr_ll from{};
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(tpacket_auxdata))] = {};
};

}  // namespace ipnfs

#endif  // IPNFS_TAP_FRAME_SLOT_H_
