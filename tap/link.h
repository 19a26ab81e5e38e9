// Link: the kernel end of one attached interface as the event loop drives it: a tap device the
// backend created, or a packet socket on an interface it grabbed.
//
// A Link owns its file descriptor (O_NONBLOCK); closing it detaches the interface (and deletes a
// tap). Created on any thread, then handed to the event loop and used only there.
#ifndef IPNFS_TAP_LINK_H_
#define IPNFS_TAP_LINK_H_

#include <liburing.h>

#include <cstdint>
#include <string>

#include "absl/types/span.h"
#include "core/interface_backend.h"
#include "core/offload.h"
#include "tap/frame_slot.h"
#include "tap/write_slot.h"

namespace ipnfs {

// A frame a read left in a slot, with the offload it carries (Offload{} for an ordinary frame).
struct IncomingFrame {
  absl::Span<const uint8_t> bytes;
  Offload offload;
};

class Link {
 public:
  virtual ~Link() = default;

  virtual InterfaceKind kind() const = 0;
  virtual const std::string& name() const = 0;
  virtual int fd() const = 0;

  // Prepares `sqe` to read the next frame the kernel hands over into `slot`.
  virtual void PrepareRead(io_uring_sqe* sqe, FrameSlot& slot) = 0;

  // The frame that a read into `slot` which returned `bytes` (>= 0) left there, ready to enter the
  // network; empty bytes when it must be dropped (truncated, or not a frame to forward).
  virtual IncomingFrame ReceivedFrame(FrameSlot& slot, size_t bytes) = 0;

  // True when the link reads and writes packets with offloads (virtio-net headers): its port
  // then gets GSO packets as they are.
  virtual bool offloads() const = 0;

  // Prepares `sqe` to transmit the frame of `slot.packet`, filling the slot's header, vectors and
  // length (the bytes a complete write takes).
  virtual void PrepareWrite(io_uring_sqe* sqe, WriteSlot& slot) = 0;

  // True while the interface is still there to read from: a tap that was moved to another network
  // namespace still is, one that was deleted is not; a grabbed interface must still exist here.
  virtual bool Exists() const = 0;
};

}  // namespace ipnfs

#endif  // IPNFS_TAP_LINK_H_
