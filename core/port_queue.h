// PortQueue: the bounded FIFO of packets waiting to be read by one port.
//
// Holds references, never copies. Thread-compatible: the owning network's lock guards it.
#ifndef IPNFS_CORE_PORT_QUEUE_H_
#define IPNFS_CORE_PORT_QUEUE_H_

#include <cstddef>
#include <deque>

#include "core/packet.h"

namespace ipnfs {

class PortQueue {
 public:
  // A queue that holds at most `capacity` packets (at least 1).
  explicit PortQueue(size_t capacity);

  // Appends `packet` and returns true, or returns false and keeps nothing when the queue is full.
  bool Push(PacketRef packet);

  // Removes and returns the oldest packet, or nullptr when empty.
  PacketRef Pop();

  // The oldest packet, or nullptr when empty.
  const Packet* Front() const { return packets_.empty() ? nullptr : packets_.front().get(); }

  // Changes the capacity (at least 1); packets already queued beyond it stay queued.
  void set_capacity(size_t capacity);

  bool empty() const { return packets_.empty(); }
  size_t size() const { return packets_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  size_t capacity_;
  std::deque<PacketRef> packets_;
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_PORT_QUEUE_H_
