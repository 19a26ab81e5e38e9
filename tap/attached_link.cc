#include "tap/attached_link.h"

#include <cerrno>
#include <cstring>
#include <utility>

namespace ipnfs {
namespace {

// A non-blocking read of the port that copies the frame into a write slot. Completed or failed
// before Port::Receive returns, on the calling thread.
class SlotReader final : public ReadWaiter {
 public:
  // What the read got: nothing (queue empty), a frame in the slot, or one too big for it.
  enum class Outcome { kNothing, kFrame, kTooBig };

  SlotReader(FrameSlot& slot, Outcome& outcome)
      : ReadWaiter(/*id=*/0, slot.capacity), slot_(slot), outcome_(outcome) {}

  bool Abandoned() const override { return false; }
  void Complete(const Packet& packet) override {
    if (packet.size() > slot_.capacity) {
      outcome_ = Outcome::kTooBig;
      return;
    }
    std::memcpy(slot_.frame(), packet.bytes().data(), packet.size());
    slot_.length = packet.size();
    outcome_ = Outcome::kFrame;
  }
  void Fail(int) override { outcome_ = Outcome::kNothing; }

 private:
  FrameSlot& slot_;
  Outcome& outcome_;
};

}  // namespace

AttachedLink::AttachedLink(uint64_t id, std::unique_ptr<Link> link, std::unique_ptr<Port> port,
                           std::shared_ptr<LinkCounters> counters,
                           std::shared_ptr<Doorbell> doorbell, size_t frame_capacity,
                           SlotCounts slots)
    : id_(id),
      link_(std::move(link)),
      port_(std::move(port)),
      counters_(std::move(counters)),
      doorbell_(std::move(doorbell)) {
  for (size_t i = 0; i < slots.reads; ++i) {
    reads_.push_back(std::make_unique<FrameSlot>(frame_capacity));
  }
  for (size_t i = 0; i < slots.writes; ++i) {
    writes_.push_back(std::make_unique<FrameSlot>(frame_capacity));
    free_writes_.push_back(slots.writes - 1 - i);  // Slot 0 is taken first.
  }
}

// The port goes first: it leaves the network before the interface closes.
AttachedLink::~AttachedLink() = default;

void AttachedLink::Forward(size_t i, size_t bytes, absl::Time now) {
  absl::Span<const uint8_t> frame = link_->ReceivedFrame(*reads_[i], bytes);
  if (frame.empty()) {
    counters_->DropIn();
    return;
  }
  // EMSGSIZE (over the MTU) or EAGAIN (receivers full under flow control): the frame is lost.
  if (port_->Send(frame, now).ok()) {
    counters_->FrameIn(frame.size());
  } else {
    counters_->DropIn();
  }
}

std::optional<size_t> AttachedLink::TakeQueuedFrame() {
  while (!free_writes_.empty()) {
    const size_t i = free_writes_.back();
    SlotReader::Outcome outcome = SlotReader::Outcome::kNothing;
    port_->Receive(std::make_unique<SlotReader>(*writes_[i], outcome), /*nonblocking=*/true);
    switch (outcome) {
      case SlotReader::Outcome::kFrame:
        free_writes_.pop_back();
        writes_[i]->busy = true;
        return i;
      case SlotReader::Outcome::kTooBig:
        counters_->DropOut();
        break;
      case SlotReader::Outcome::kNothing:
        // Ask to be told about the next frame; one may have come in meanwhile.
        if (!port_->Poll(std::make_unique<DoorbellWaiter>(doorbell_)).readable) {
          return std::nullopt;
        }
        break;
    }
  }
  return std::nullopt;
}

void AttachedLink::Written(size_t i, int result) {
  FrameSlot& slot = *writes_[i];
  if (result >= 0 && static_cast<size_t>(result) >= slot.length) {
    counters_->FrameOut(slot.length);
  } else {
    counters_->DropOut();  // -EAGAIN, -ENOBUFS, -EIO, -EMSGSIZE... or a short write.
  }
  slot.busy = false;
  free_writes_.push_back(i);
}

void AttachedLink::StopWatching() { port_->CancelAll(ECANCELED); }

}  // namespace ipnfs
