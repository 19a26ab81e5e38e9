#include "core/network.h"

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/completions.h"
#include "core/errno_status.h"
#include "core/log.h"
#include "core/segmentation.h"

namespace ipnfs {

// Lets the policy ask whether a port's queue has room, and whether it holds senders back at
// `now`. Used with the network's lock held.
class Network::QueueRoom final : public PortView {
 public:
  QueueRoom(const Network& network, absl::Time now) : network_(network), now_(now) {}
  bool HasRoom(PortId id) const override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    auto it = network_.ports_.find(id);
    if (it == network_.ports_.end()) return false;
    const Port& port = *it->second;
    return !port.parked_.empty() || port.queue_.size() < port.queue_.capacity();
  }
  bool HoldsBack(PortId id) const override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    auto it = network_.ports_.find(id);
    return it != network_.ports_.end() && network_.HoldsBackLocked(*it->second, now_);
  }
  bool OthersHoldBack(PortId ingress) const override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (const auto& [id, port] : network_.ports_) {
      if (id != ingress && Receives(port->mode()) && network_.HoldsBackLocked(*port, now_)) {
        return true;
      }
    }
    return false;
  }

 private:
  const Network& network_;
  const absl::Time now_;
};

// A packet waiting for room under flow control "block": routed to `destinations`, or, when the
// policy found no receiver with room (Route returned Unavailable), routed again once it may go.
struct Network::BlockedSend {
  Port* from;
  PacketRef packet;
  std::vector<PortId> destinations;
  std::unique_ptr<SendWaiter> waiter;
  bool route_again = false;
};

std::shared_ptr<Network> Network::Create(std::unique_ptr<Policy> policy, NetworkConfig config) {
  return std::shared_ptr<Network>(new Network(std::move(policy), std::move(config)));
}

Network::Network(std::unique_ptr<Policy> policy, NetworkConfig config)
    : policy_(std::move(policy)), config_(std::move(config)) {
  absl::MutexLock lock(&mu_);
  config_.policy = std::string(policy_->name());
  ConfigurePolicyLocked();
}

void Network::ConfigurePolicyLocked() {
  policy_->Configure(PolicyOptions{.ageing = config_.ageing, .max_macs = config_.max_macs});
}

absl::StatusOr<std::unique_ptr<Port>> Network::Join(PortMode mode, PortOwner owner,
                                                    absl::Time now) {
  Completions done;
  absl::MutexLock lock(&mu_);
  if (config_.max_ports != 0 && ports_.size() >= config_.max_ports) {
    return ErrnoError(EUSERS, absl::StrCat("the network has its maximum of ", config_.max_ports,
                                           " ports"));
  }
  const PortId id = next_port_id_++;
  auto port = std::unique_ptr<Port>(
      new Port(shared_from_this(), id, mode, std::move(owner), config_.qlen, now, false));
  ports_.emplace(id, port.get());
  policy_->Join(id, mode);
  // A policy that chooses by room may send a waiting packet to the newcomer.
  if (config_.flow == Flow::kBlock && Receives(mode)) ReleaseBlockedLocked(now, done);
  return port;
}

absl::StatusOr<std::unique_ptr<Port>> Network::JoinMonitor(PortOwner owner, absl::Time now) {
  absl::MutexLock lock(&mu_);
  const PortId id = next_port_id_++;
  auto port = std::unique_ptr<Port>(new Port(shared_from_this(), id, PortMode::kReceive,
                                             std::move(owner), config_.qlen, now, true));
  monitors_.push_back(port.get());
  return port;
}

void Network::Leave(Port& port) {
  Completions done;
  absl::MutexLock lock(&mu_);
  if (port.monitor()) {
    std::erase(monitors_, &port);
    return;
  }
  policy_->Leave(port.id());
  ports_.erase(port.id());
  if (config_.flow == Flow::kBlock) ReleaseBlockedLocked(absl::Now(), done);
}

void Network::SetConfig(const NetworkConfig& config, absl::Time now) {
  Completions done;
  absl::MutexLock lock(&mu_);
  const std::string policy = config_.policy;
  config_ = config;
  config_.policy = policy;
  for (auto& [id, port] : ports_) port->queue_.set_capacity(config_.qlen);
  for (Port* monitor : monitors_) monitor->queue_.set_capacity(config_.qlen);
  ConfigurePolicyLocked();
  ReleaseBlockedLocked(now, done);
}

void Network::SetPolicy(std::unique_ptr<Policy> policy) {
  absl::MutexLock lock(&mu_);
  std::vector<Port*> joined;
  for (auto& [id, port] : ports_) joined.push_back(port);
  std::sort(joined.begin(), joined.end(),
            [](const Port* a, const Port* b) { return a->id() < b->id(); });
  policy_ = std::move(policy);
  config_.policy = std::string(policy_->name());
  ConfigurePolicyLocked();
  for (Port* port : joined) policy_->Join(port->id(), port->mode());
}

void Network::Tick(absl::Time now) {
  Completions done;
  absl::MutexLock lock(&mu_);
  policy_->Tick(now);
  if (config_.flow == Flow::kBlock) ReleaseBlockedLocked(now, done);
  constexpr size_t kMaxEvents = 256;
  for (PolicyEvent& event : policy_->TakeEvents()) {
    if (events_.size() < kMaxEvents) events_.push_back(std::move(event));
  }
  const uint64_t drops = stats_.drops_queue_full;
  if (drops != drops_reported_ && now - drops_reported_at_ >= absl::Seconds(1)) {
    events_.push_back(
        PolicyEvent{.kind = "drop-burst", .details = absl::StrCat("dropped=", drops - drops_reported_)});
    drops_reported_ = drops;
    drops_reported_at_ = now;
  }
}

std::vector<PolicyEvent> Network::TakeEvents() {
  absl::MutexLock lock(&mu_);
  std::vector<PolicyEvent> taken;
  taken.swap(events_);
  return taken;
}

bool Network::HoldsBackLocked(const Port& port, absl::Time now) const {
  if (!port.parked_.empty() || port.queue_.size() < port.queue_.capacity()) return false;
  if (config_.flow != Flow::kBlock) return false;
  return now - port.last_read_ < config_.stall;  // A stalled reader is lossy for the moment.
}

bool Network::HeldBackLocked(const std::vector<PortId>& destinations, absl::Time now) const {
  if (config_.flow != Flow::kBlock) return false;
  for (PortId id : destinations) {
    auto it = ports_.find(id);
    if (it != ports_.end() && HoldsBackLocked(*it->second, now)) return true;
  }
  return false;
}

bool Network::WritableLocked(const Port& port, absl::Time now) const {
  if (!Sends(port.mode()) || port.blocked_sends_ > 0) return false;
  if (config_.flow != Flow::kBlock) return true;
  return !policy_->WouldWait(port.id(), QueueRoom(*this, now));
}

void Network::NotifyWritersLocked(absl::Time now, Completions& done) {
  if (config_.flow != Flow::kBlock) return;
  for (auto& [id, port] : ports_) {
    if (port->poll_ && Sends(port->mode()) && WritableLocked(*port, now)) {
      done.Notify(std::move(port->poll_));
    }
  }
}

absl::Status Network::Send(Port& from, PacketRef packet, absl::Time now,
                           std::unique_ptr<SendWaiter> waiter) {
  Completions done;  // Runs after every lock below is released.
  auto refuse = [&](absl::Status status) {
    if (!waiter) return status;
    done.Fail(std::move(waiter), StatusToErrno(status));
    return absl::OkStatus();
  };
  if (!Sends(from.mode())) return refuse(ErrnoError(EBADF, "port is receive-only"));
  if (packet == nullptr || packet->size() == 0) {
    if (waiter) done.Complete(std::move(waiter));
    return absl::OkStatus();
  }
  const absl::Span<const uint8_t> bytes = packet->bytes();
  const Offload& offload = packet->offload();
  // The MTU applies to what receivers without offloads get: for a GSO packet, its segments.
  size_t frame_size = bytes.size();
  if (!offload.plain()) {
    absl::StatusOr<size_t> largest = LargestResolvedFrame(bytes, offload);
    if (!largest.ok()) return refuse(largest.status());
    if (bytes.size() > Offload::kMaxPacketBytes) {
      return refuse(ErrnoError(EINVAL, "packet with offloads over 64 KiB"));
    }
    frame_size = *largest;
  }
  absl::MutexLock lock(&mu_);
  if (frame_size > config_.mtu) {
    ++stats_.drops_too_big;
    return refuse(ErrnoError(EMSGSIZE, absl::StrCat(frame_size, " bytes exceed the MTU of ",
                                                    config_.mtu)));
  }
  destinations_.clear();
  absl::Status routed =
      policy_->Route(from.id(), bytes, now, QueueRoom(*this, now), &destinations_);
  const bool no_room = config_.flow == Flow::kBlock && absl::IsUnavailable(routed);
  if (!routed.ok() && !no_room) return refuse(routed);
  // A sender's packets stay in order: behind its own waiting ones.
  if (config_.flow == Flow::kBlock &&
      (no_room || from.blocked_sends_ > 0 || HeldBackLocked(destinations_, now))) {
    if (!waiter) return ErrnoError(EAGAIN, "receivers are full (flow control)");
    if (waiter->Abandoned()) return refuse(ErrnoError(EINTR, "interrupted"));
    ++from.blocked_sends_;
    blocked_.push_back(BlockedSend{&from, packet, destinations_, std::move(waiter), no_room});
    return absl::OkStatus();
  }
  DeliverAllLocked(from, packet, destinations_, now, done);
  if (waiter) done.Complete(std::move(waiter));
  return absl::OkStatus();
}

void Network::DeliverAllLocked(Port& from, const PacketRef& packet,
                               const std::vector<PortId>& destinations, absl::Time now,
                               Completions& done) {
  ++stats_.packets_sent;
  stats_.bytes_sent += packet->size();
  ++from.counters_.packets_out;
  from.counters_.bytes_out += packet->size();
  last_send_ = std::max(last_send_, now);
  std::vector<PacketRef> resolved;
  for (PortId id : destinations) {
    auto it = ports_.find(id);
    if (it == ports_.end()) continue;  // Left while the packet waited.
    DeliverResolvedLocked(*it->second, packet, resolved, done);
  }
  for (Port* monitor : monitors_) DeliverResolvedLocked(*monitor, packet, resolved, done);
}

void Network::DeliverResolvedLocked(Port& port, const PacketRef& packet,
                                    std::vector<PacketRef>& resolved, Completions& done) {
  if (packet->offload().plain() || port.accepts_offloads_) return DeliverLocked(port, packet, done);
  if (resolved.empty()) {
    // Checked by Send(): it cannot fail here.
    ResolveOffload(packet->bytes(), packet->offload(), [&](absl::Span<const uint8_t> frame) {
      resolved.push_back(Packet::Create(frame, packet->sent()));
    }).IgnoreError();
  }
  for (const PacketRef& frame : resolved) DeliverLocked(port, frame, done);
}

void Network::DeliverLocked(Port& port, const PacketRef& packet, Completions& done) {
  if (!port.parked_.empty()) {
    std::unique_ptr<ReadWaiter> waiter = std::move(port.parked_.front());
    port.parked_.pop_front();
    CountReceivedLocked(port, *packet, waiter->max_bytes(), packet->sent());
    done.Complete(std::move(waiter), packet);
    return;
  }
  if (!port.queue_.Push(packet)) {
    ++port.counters_.dropped;
    ++stats_.drops_queue_full;
    return;
  }
  if (port.poll_) done.Notify(std::move(port.poll_));
}

void Network::CountReceivedLocked(Port& port, const Packet& packet, size_t max_bytes,
                                  absl::Time now) {
  ++port.counters_.packets_in;
  port.counters_.bytes_in += packet.size();
  port.last_read_ = std::max(port.last_read_, now);
  ++stats_.packets_received;
  stats_.bytes_received += packet.size();
  if (packet.size() > max_bytes) {
    ++port.counters_.truncated;
    ++stats_.drops_truncated;
  }
}

void Network::ReleaseBlockedLocked(absl::Time now, Completions& done) {
  absl::flat_hash_set<const Port*> still_waiting;  // Senders whose oldest send must wait.
  for (auto it = blocked_.begin(); it != blocked_.end();) {
    Port& from = *it->from;
    if (still_waiting.contains(&from)) {
      ++it;
      continue;
    }
    absl::Status routed = RouteAgainLocked(*it, now);
    if (absl::IsUnavailable(routed) || HeldBackLocked(it->destinations, now)) {
      still_waiting.insert(&from);
      ++it;
      continue;
    }
    --from.blocked_sends_;
    if (routed.ok()) {
      DeliverAllLocked(from, it->packet, it->destinations, now, done);
      done.Complete(std::move(it->waiter));
    } else {
      done.Fail(std::move(it->waiter), StatusToErrno(routed));
    }
    it = blocked_.erase(it);
  }
  NotifyWritersLocked(now, done);
}

absl::Status Network::RouteAgainLocked(BlockedSend& send, absl::Time now) {
  if (!send.route_again) return absl::OkStatus();
  std::vector<PortId> destinations;
  absl::Status routed = policy_->Route(send.from->id(), send.packet->bytes(), now,
                                       QueueRoom(*this, now), &destinations);
  if (routed.ok()) {
    send.destinations = std::move(destinations);
    send.route_again = false;
  }
  return routed;
}

void Network::Receive(Port& port, std::unique_ptr<ReadWaiter> waiter, bool nonblocking) {
  Completions done;
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  if (!Receives(port.mode())) {
    done.Fail(std::move(waiter), EBADF);
  } else if (waiter->framed() && !port.queue_.empty()) {
    std::vector<PacketRef> packets;
    size_t used = 0;
    while (const Packet* next = port.queue_.Front()) {
      const size_t frame = ReadWaiter::kFrameHeaderBytes + next->size();
      if (!packets.empty() && used + frame > waiter->max_bytes()) break;
      used += frame;
      packets.push_back(port.queue_.Pop());
      CountReceivedLocked(port, *packets.back(), waiter->max_bytes(), now);
    }
    done.Complete(std::move(waiter), std::move(packets));
    if (config_.flow == Flow::kBlock) ReleaseBlockedLocked(now, done);
  } else if (PacketRef packet = port.queue_.Pop()) {
    CountReceivedLocked(port, *packet, waiter->max_bytes(), now);
    done.Complete(std::move(waiter), std::move(packet));
    if (config_.flow == Flow::kBlock) ReleaseBlockedLocked(now, done);
  } else if (nonblocking) {
    done.Fail(std::move(waiter), EAGAIN);
  } else if (waiter->Abandoned()) {
    done.Fail(std::move(waiter), EINTR);
  } else {
    port.parked_.push_back(std::move(waiter));
    port.last_read_ = now;  // A reader waiting for packets is not stalled.
    if (config_.flow == Flow::kBlock) ReleaseBlockedLocked(now, done);
  }
}

size_t Network::TakeQueued(Port& port, size_t max_packets, std::vector<PacketRef>& out) {
  Completions done;
  absl::MutexLock lock(&mu_);
  if (!Receives(port.mode())) return 0;
  const absl::Time now = absl::Now();
  size_t taken = 0;
  while (taken < max_packets && !port.queue_.empty()) {
    out.push_back(port.queue_.Pop());
    CountReceivedLocked(port, *out.back(), out.back()->size(), now);
    ++taken;
  }
  if (taken > 0 && config_.flow == Flow::kBlock) ReleaseBlockedLocked(now, done);
  return taken;
}

void Network::Cancel(Port& port, uint64_t waiter_id) {
  Completions done;
  absl::MutexLock lock(&mu_);
  for (auto it = port.parked_.begin(); it != port.parked_.end(); ++it) {
    if ((*it)->id() == waiter_id) {
      done.Fail(std::move(*it), EINTR);
      port.parked_.erase(it);
      return;
    }
  }
  for (auto it = blocked_.begin(); it != blocked_.end(); ++it) {
    if (it->from == &port && it->waiter->id() == waiter_id) {
      done.Fail(std::move(it->waiter), EINTR);
      --port.blocked_sends_;
      blocked_.erase(it);
      return;
    }
  }
}

PollState Network::Poll(Port& port, std::unique_ptr<PollWaiter> waiter) {
  std::unique_ptr<PollWaiter> replaced;  // Destroyed after the lock is released.
  absl::MutexLock lock(&mu_);
  if (waiter) {
    replaced = std::move(port.poll_);
    port.poll_ = std::move(waiter);
  }
  return PollState{.readable = Receives(port.mode()) && !port.queue_.empty(),
                   .writable = WritableLocked(port, absl::Now())};
}

void Network::CancelAll(Port& port, int error_number) {
  Completions done;
  std::unique_ptr<PollWaiter> poll;
  absl::MutexLock lock(&mu_);
  for (auto& waiter : port.parked_) done.Fail(std::move(waiter), error_number);
  port.parked_.clear();
  for (auto it = blocked_.begin(); it != blocked_.end();) {
    if (it->from != &port) {
      ++it;
      continue;
    }
    done.Fail(std::move(it->waiter), error_number);
    it = blocked_.erase(it);
  }
  port.blocked_sends_ = 0;
  poll = std::move(port.poll_);
}

NetworkStats Network::stats() const {
  absl::MutexLock lock(&mu_);
  NetworkStats stats = stats_;
  stats.ports = ports_.size();
  for (const PolicyCounter& counter : policy_->Counters()) {
    stats.policy_counters.emplace_back(std::string(counter.name), counter.value);
  }
  return stats;
}

NetworkConfig Network::config() const {
  absl::MutexLock lock(&mu_);
  return config_;
}

Flow Network::flow() const {
  absl::MutexLock lock(&mu_);
  return config_.flow;
}

std::vector<PortInfo> Network::ports() const {
  absl::MutexLock lock(&mu_);
  std::vector<const Port*> all;
  for (const auto& [id, port] : ports_) all.push_back(port);
  all.insert(all.end(), monitors_.begin(), monitors_.end());
  std::vector<PortInfo> infos;
  infos.reserve(all.size());
  for (const Port* port : all) {
    infos.push_back(PortInfo{.id = port->id(),
                             .mode = port->mode(),
                             .monitor = port->monitor(),
                             .owner = port->owner(),
                             .counters = port->counters_,
                             .queued = port->queue_.size()});
  }
  std::sort(infos.begin(), infos.end(),
            [](const PortInfo& a, const PortInfo& b) { return a.id < b.id; });
  return infos;
}

std::vector<std::string> Network::policy_attributes() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> names;
  for (absl::string_view name : policy_->ReadOnlyAttributes()) names.emplace_back(name);
  return names;
}

absl::StatusOr<std::string> Network::ReadPolicyAttribute(absl::string_view name,
                                                         absl::Time now) const {
  absl::MutexLock lock(&mu_);
  return policy_->ReadAttribute(name, now);
}

absl::Time Network::last_send() const {
  absl::MutexLock lock(&mu_);
  return last_send_;
}

}  // namespace ipnfs
