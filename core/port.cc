#include "core/port.h"

#include <cerrno>
#include <utility>

#include "core/errno_status.h"
#include "core/network.h"

namespace ipnfs {
namespace {

// The packet a send of `bytes` makes: one copy, outside the network's lock, which every receiver
// shares. Null for an empty send.
PacketRef Copy(absl::Span<const uint8_t> bytes, const Offload& offload, absl::Time now) {
  return bytes.empty() ? nullptr : Packet::Create(bytes, now, offload);
}

}  // namespace

Port::Port(std::shared_ptr<Network> network, PortId id, PortMode mode, PortOwner owner,
           size_t qlen, absl::Time now, bool monitor)
    : network_(std::move(network)),
      id_(id),
      mode_(mode),
      owner_(std::move(owner)),
      monitor_(monitor),
      queue_(qlen),
      last_read_(now) {}

Port::~Port() {
  network_->CancelAll(*this, EBADF);
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

void Port::SetAcceptsOffloads(bool accepts) {
  absl::MutexLock lock(&network_->mu_);
  accepts_offloads_ = accepts;
}

void Port::Send(absl::Span<const uint8_t> bytes, absl::Time now,
                std::unique_ptr<SendWaiter> waiter, bool nonblocking) {
  if (nonblocking) {
    absl::Status sent = network_->Send(*this, Copy(bytes, Offload{}, now), now, nullptr);
    if (sent.ok()) {
      waiter->Complete();
    } else {
      waiter->Fail(StatusToErrno(sent));
    }
    return;
  }
  network_->Send(*this, Copy(bytes, Offload{}, now), now, std::move(waiter)).IgnoreError();
}

void Port::Receive(std::unique_ptr<ReadWaiter> waiter, bool nonblocking) {
  network_->Receive(*this, std::move(waiter), nonblocking);
}

size_t Port::TakeQueued(size_t max_packets, std::vector<PacketRef>& out) {
  return network_->TakeQueued(*this, max_packets, out);
}

void Port::Cancel(uint64_t waiter_id) { network_->Cancel(*this, waiter_id); }

PollState Port::Poll(std::unique_ptr<PollWaiter> waiter) {
  return network_->Poll(*this, std::move(waiter));
}

void Port::CancelAll(int error_number) { network_->CancelAll(*this, error_number); }

PortCounters Port::counters() const {
  absl::MutexLock lock(&network_->mu_);
  return counters_;
}

size_t Port::queued() const {
  absl::MutexLock lock(&network_->mu_);
  return queue_.size();
}

}  // namespace ipnfs
