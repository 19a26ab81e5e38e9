#include "core/port.h"

#include <cerrno>
#include <utility>

#include "core/completions.h"
#include "core/errno_status.h"
#include "core/flow_control.h"
#include "core/network.h"

namespace ipnfs {
namespace {

// The packet a send of `bytes` makes: one copy, outside the network's lock, which every receiver
// shares. Null for an empty send.
PacketRef Copy(absl::Span<const uint8_t> bytes, const Offload& offload, absl::Time now) {
  return bytes.empty() ? nullptr : Packet::Create(bytes, now, offload);
}

}  // namespace

Port::Port(std::shared_ptr<Network> network, PortId id, PortMode mode, Role role, PortOwner owner,
           size_t qlen, absl::Time now)
    : network_(std::move(network)),
      id_(id),
      mode_(mode),
      role_(role),
      owner_(std::move(owner)),
      queue_(qlen),
      last_read_(now) {}

Port::~Port() {
  CancelAll(EBADF);
  network_->Leave(*this);
}

absl::Status Port::Send(absl::Span<const uint8_t> bytes, absl::Time now) {
  return network_->Send(*this, Copy(bytes, Offload{}, now), now, nullptr);
}

absl::Status Port::Send(absl::Span<const uint8_t> bytes, const Offload& offload, absl::Time now) {
  return network_->Send(*this, Copy(bytes, offload, now), now, nullptr);
}

absl::Status Port::SendPacket(PacketRef packet, absl::Time now) {
  return network_->Send(*this, std::move(packet), now, nullptr);
}

void Port::SetOffloadDelivery(OffloadDelivery delivery) {
  absl::MutexLock lock(&network_->mu_);
  offload_delivery_ = delivery;
}

void Port::Send(absl::Span<const uint8_t> bytes, absl::Time now, std::unique_ptr<SendWaiter> waiter,
                Waiting waiting) {
  SendPacket(Copy(bytes, Offload{}, now), now, std::move(waiter), waiting);
}

void Port::SendPacket(PacketRef packet, absl::Time now, std::unique_ptr<SendWaiter> waiter,
                      Waiting waiting) {
  if (waiting == Waiting::kNever) {
    absl::Status sent = network_->Send(*this, std::move(packet), now, nullptr);
    if (sent.ok()) {
      waiter->Complete();
    } else {
      waiter->Fail(StatusToErrno(sent));
    }
    return;
  }
  network_->Send(*this, std::move(packet), now, std::move(waiter)).IgnoreError();
}

void Port::Receive(std::unique_ptr<ReadWaiter> waiter, Waiting waiting, absl::Time now) {
  Completions done;
  absl::MutexLock lock(&network_->mu_);
  network_->SeeLocked(now);
  if (!Receives(mode_)) {
    done.Fail(std::move(waiter), EBADF);
  } else if (!queue_.empty()) {
    network_->CompleteFromQueueLocked(*this, std::move(waiter), now, done);
    network_->ReleaseWaitingLocked(now, done);
  } else if (waiting == Waiting::kNever) {
    done.Fail(std::move(waiter), EAGAIN);
  } else if (waiter->Abandoned()) {
    done.Fail(std::move(waiter), EINTR);
  } else {
    parked_.push_back(std::move(waiter));
    last_read_ = now;  // A reader waiting for packets is not stalled.
    network_->ReleaseWaitingLocked(now, done);
  }
}

size_t Port::TakeQueued(size_t max_packets, std::vector<PacketRef>& out, absl::Time now) {
  Completions done;
  absl::MutexLock lock(&network_->mu_);
  network_->SeeLocked(now);
  if (!Receives(mode_)) return 0;
  size_t taken = 0;
  while (taken < max_packets && !queue_.empty()) {
    out.push_back(queue_.Pop());
    network_->CountReceivedLocked(*this, *out.back(), out.back()->size(), now);
    ++taken;
  }
  if (taken > 0) network_->ReleaseWaitingLocked(now, done);
  return taken;
}

void Port::Cancel(uint64_t waiter_id) {
  Completions done;
  absl::MutexLock lock(&network_->mu_);
  for (auto it = parked_.begin(); it != parked_.end(); ++it) {
    if ((*it)->id() == waiter_id) {
      done.Fail(std::move(*it), EINTR);
      parked_.erase(it);
      return;
    }
  }
  network_->flow_->Cancel(*this, waiter_id, done);
}

PollState Port::Poll(std::unique_ptr<PollWaiter> waiter, absl::Time now) {
  std::unique_ptr<PollWaiter> replaced;  // Destroyed after the lock is released.
  absl::MutexLock lock(&network_->mu_);
  network_->SeeLocked(now);
  if (waiter) {
    replaced = std::move(poll_);
    poll_ = std::move(waiter);
  }
  return PollState{.readable = Receives(mode_) && !queue_.empty(),
                   .writable = network_->flow_->Writable(*network_, *this, now)};
}

void Port::CancelAll(int error_number) {
  Completions done;
  std::unique_ptr<PollWaiter> poll;
  absl::MutexLock lock(&network_->mu_);
  for (auto& waiter : parked_) done.Fail(std::move(waiter), error_number);
  parked_.clear();
  network_->flow_->CancelAll(*this, error_number, done);
  poll = std::move(poll_);
}

PortCounters Port::counters() const {
  absl::MutexLock lock(&network_->mu_);
  return counters_;
}

size_t Port::queued() const {
  absl::MutexLock lock(&network_->mu_);
  return queue_.size();
}

}  // namespace ipnfs
