#include "core/port_queue.h"

#include <algorithm>
#include <utility>

namespace ipnfs {

PortQueue::PortQueue(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

void PortQueue::set_capacity(size_t capacity) { capacity_ = std::max<size_t>(capacity, 1); }

bool PortQueue::Push(PacketRef packet) {
  if (packets_.size() >= capacity_) return false;
  packets_.push_back(std::move(packet));
  return true;
}

PacketRef PortQueue::Pop() {
  if (packets_.empty()) return nullptr;
  PacketRef packet = std::move(packets_.front());
  packets_.pop_front();
  return packet;
}

}  // namespace ipnfs
