#include "tap/attached_link.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/time/clock.h"

namespace ipnfs {
namespace {

// Frames from this size on enter the network in their read buffer (no copy).
constexpr size_t kAdoptBytes = 16 * 1024;

}  // namespace

AttachedLink::AttachedLink(uint64_t id, std::unique_ptr<Link> link, std::unique_ptr<Port> port,
                           std::shared_ptr<LinkCounters> counters,
                           std::shared_ptr<Doorbell> doorbell, size_t frame_capacity,
                           SlotCounts slots)
    : id_(id),
      link_(std::move(link)),
      port_(std::move(port)),
      counters_(std::move(counters)),
      doorbell_(std::move(doorbell)),
      frame_capacity_(frame_capacity) {
  port_->SetOffloadDelivery(link_->offloads() ? OffloadDelivery::kAsIs
                                              : OffloadDelivery::kResolved);
  for (size_t i = 0; i < slots.reads; ++i) {
    reads_.push_back(std::make_unique<FrameSlot>(frame_capacity));
  }
  for (size_t i = 0; i < slots.writes; ++i) {
    writes_.push_back(std::make_unique<WriteSlot>());
    free_writes_.push_back(slots.writes - 1 - i);  // Slot 0 is taken first.
  }
}

// The port goes first: it leaves the network before the interface closes.
AttachedLink::~AttachedLink() = default;

void AttachedLink::Forward(size_t i, size_t bytes, absl::Time now) {
  const IncomingFrame frame = link_->ReceivedFrame(*reads_[i], bytes);
  if (frame.bytes.empty()) {
    counters_->DropIn();
    return;
  }
  // A large frame (a GSO packet) enters the network in the slot's buffer itself, and the slot
  // gets a new one; a small one is copied, so that queued packets do not pin whole slot buffers.
  PacketRef packet;
  FrameSlot& slot = *reads_[i];
  if (frame.bytes.size() >= kAdoptBytes) {
    const size_t offset = static_cast<size_t>(frame.bytes.data() - slot.buffer.get());
    packet = Packet::Adopt(std::move(slot.buffer), offset, frame.bytes.size(), now, frame.offload);
    slot.buffer = std::make_unique_for_overwrite<uint8_t[]>(FrameSlot::kHeadroom + slot.capacity);
  } else {
    packet = Packet::Create(frame.bytes, now, frame.offload);
  }
  // EMSGSIZE (over the MTU), EAGAIN (receivers full under flow control) or EINVAL (an offload
  // the network cannot resolve): the frame is lost.
  if (port_->SendPacket(std::move(packet), now).ok()) {
    counters_->FrameIn(frame.bytes.size());
  } else {
    counters_->DropIn();
  }
}

void AttachedLink::TakeQueuedFrames(std::vector<size_t>& ready) {
  ready.clear();
  const absl::Time now = absl::Now();
  while (!free_writes_.empty()) {
    taken_.clear();
    if (port_->TakeQueued(free_writes_.size(), taken_, now) == 0) {
      // A waiter that has not fired yet means nothing was queued since it was registered: it
      // rings when something is. Else register one; a frame may have come in meanwhile.
      if (doorbell_->Watching()) return;
      if (!port_->Poll(std::make_unique<DoorbellWaiter>(doorbell_), now).readable) return;
      continue;
    }
    for (PacketRef& packet : taken_) {
      if (packet->size() > frame_capacity_) {
        counters_->DropOut();
        continue;
      }
      const size_t i = free_writes_.back();
      free_writes_.pop_back();
      writes_[i]->packet = std::move(packet);
      ready.push_back(i);
    }
  }
}

void AttachedLink::Written(size_t i, int result) {
  WriteSlot& slot = *writes_[i];
  if (result >= 0 && static_cast<size_t>(result) >= slot.length) {
    counters_->FrameOut(slot.packet->size());
  } else {
    counters_->DropOut();  // -EAGAIN, -ENOBUFS, -EIO, -EMSGSIZE... or a short write.
  }
  slot.packet.reset();
  free_writes_.push_back(i);
}

void AttachedLink::StopWatching() { port_->CancelAll(ECANCELED); }

}  // namespace ipnfs
