#include "core/network.h"

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/completions.h"
#include "core/errno_status.h"
#include "core/flow_control.h"
#include "core/segmentation.h"

namespace ipnfs {

namespace {

// The largest frame `packet` stands for, which the MTU applies to: the packet itself, or, with
// offloads, the largest segment it resolves to. EINVAL when its offloads cannot be resolved or it
// is over Offload::kMaxPacketBytes.
absl::StatusOr<size_t> LargestFrame(const Packet& packet) {
  if (packet.offload().plain()) return packet.size();
  absl::StatusOr<size_t> largest = LargestResolvedFrame(packet.bytes(), packet.offload());
  if (!largest.ok()) return largest.status();
  if (packet.size() > Offload::kMaxPacketBytes) {
    return ErrnoError(EINVAL, "packet with offloads over 64 KiB");
  }
  return largest;
}

}  // namespace

std::shared_ptr<Network> Network::Create(std::unique_ptr<Policy> policy, NetworkConfig config) {
  return std::shared_ptr<Network>(new Network(std::move(policy), std::move(config)));
}

Network::Network(std::unique_ptr<Policy> policy, NetworkConfig config)
    : policy_(std::move(policy)),
      config_(std::move(config)),
      flow_(std::make_unique<FlowControl>()) {
  absl::MutexLock lock(&mu_);
  config_.policy = std::string(policy_->name());
  ConfigurePolicyLocked();
}

Network::~Network() = default;

void Network::ConfigurePolicyLocked() {
  policy_->Configure(PolicyOptions{.ageing = config_.ageing, .max_macs = config_.max_macs});
}

absl::StatusOr<std::unique_ptr<Port>> Network::Join(PortMode mode, PortOwner owner,
                                                    absl::Time now) {
  Completions done;
  absl::MutexLock lock(&mu_);
  SeeLocked(now);
  if (config_.max_ports != 0 && ports_.size() >= config_.max_ports) {
    return ErrnoError(EUSERS,
                      absl::StrCat("the network has its maximum of ", config_.max_ports, " ports"));
  }
  const PortId id = next_port_id_++;
  auto port = std::unique_ptr<Port>(new Port(shared_from_this(), id, mode, Port::Role::kMember,
                                             std::move(owner), config_.qlen, now));
  ports_.emplace(id, port.get());
  policy_->Join(id, mode);
  // A policy that chooses by room may send a waiting packet to the newcomer.
  if (Receives(mode)) ReleaseWaitingLocked(now, done);
  return port;
}

absl::StatusOr<std::unique_ptr<Port>> Network::JoinMonitor(PortOwner owner, absl::Time now) {
  absl::MutexLock lock(&mu_);
  SeeLocked(now);
  const PortId id = next_port_id_++;
  auto port =
      std::unique_ptr<Port>(new Port(shared_from_this(), id, PortMode::kReceive,
                                     Port::Role::kMonitor, std::move(owner), config_.qlen, now));
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
  ReleaseWaitingLocked(latest_now_, done);
}

void Network::SetConfig(const NetworkConfig& config, absl::Time now) {
  Completions done;
  absl::MutexLock lock(&mu_);
  SeeLocked(now);
  const std::string policy = config_.policy;
  config_ = config;
  config_.policy = policy;
  for (auto& [id, port] : ports_) port->queue_.set_capacity(config_.qlen);
  for (Port* monitor : monitors_) monitor->queue_.set_capacity(config_.qlen);
  ConfigurePolicyLocked();
  flow_->Release(*this, now, done);  // Whatever the flow: a switch to "drop" lets all go.
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
  SeeLocked(now);
  policy_->Tick(now);
  ReleaseWaitingLocked(now, done);
  constexpr size_t kMaxEvents = 256;
  for (PolicyEvent& event : policy_->TakeEvents()) {
    if (events_.size() < kMaxEvents) events_.push_back(std::move(event));
  }
  const uint64_t drops = stats_.drops_queue_full;
  if (drops != drops_reported_ && now - drops_reported_at_ >= absl::Seconds(1)) {
    events_.push_back(PolicyEvent{.kind = "drop-burst",
                                  .details = absl::StrCat("dropped=", drops - drops_reported_)});
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

void Network::SeeLocked(absl::Time now) { latest_now_ = std::max(latest_now_, now); }

void Network::ReleaseWaitingLocked(absl::Time now, Completions& done) {
  if (config_.flow == Flow::kBlock) flow_->Release(*this, now, done);
}

absl::Status Network::Send(Port& from, PacketRef packet, absl::Time now,
                           std::unique_ptr<SendWaiter> waiter) {
  Completions done;  // Runs after every lock below is released.
  auto refuse = [&](absl::Status status) {
    if (!waiter) return status;
    done.Fail(std::move(waiter), StatusToErrno(status));
    return absl::OkStatus();
  };
  if (!Sends(from.mode())) {
    absl::MutexLock lock(&mu_);
    ++stats_.drops_no_send;
    return refuse(ErrnoError(EBADF, "port is receive-only"));
  }
  if (packet == nullptr || packet->size() == 0) {
    if (waiter) done.Complete(std::move(waiter));
    return absl::OkStatus();
  }
  const absl::StatusOr<size_t> frame_size = LargestFrame(*packet);
  if (!frame_size.ok()) return refuse(frame_size.status());
  absl::MutexLock lock(&mu_);
  SeeLocked(now);
  if (*frame_size > config_.mtu) {
    ++stats_.drops_too_big;
    return refuse(
        ErrnoError(EMSGSIZE, absl::StrCat(*frame_size, " bytes exceed the MTU of ", config_.mtu)));
  }
  destinations_.clear();
  const absl::Status routed = flow_->Route(*this, from.id(), packet->bytes(), now, &destinations_);
  const Destinations chosen = config_.flow == Flow::kBlock && absl::IsUnavailable(routed)
                                  ? Destinations::kNoneWithRoom
                                  : Destinations::kChosen;
  if (!routed.ok() && chosen == Destinations::kChosen) return refuse(routed);
  if (flow_->MustWait(*this, from, chosen, destinations_, now)) {
    if (!waiter) return ErrnoError(EAGAIN, "receivers are full (flow control)");
    if (waiter->Abandoned()) return refuse(ErrnoError(EINTR, "interrupted"));
    flow_->Park(from, packet, chosen, destinations_, std::move(waiter));
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
  if (packet->offload().plain() || port.offload_delivery_ == OffloadDelivery::kAsIs) {
    return DeliverLocked(port, packet, done);
  }
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

void Network::CompleteFromQueueLocked(Port& port, std::unique_ptr<ReadWaiter> waiter,
                                      absl::Time now, Completions& done) {
  if (!waiter->framed()) {
    PacketRef packet = port.queue_.Pop();
    CountReceivedLocked(port, *packet, waiter->max_bytes(), now);
    done.Complete(std::move(waiter), std::move(packet));
    return;
  }
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
}

void Network::CountRefusedConnection() {
  absl::MutexLock lock(&mu_);
  ++stats_.connections_refused;
}

void Network::CountBadFrame() {
  absl::MutexLock lock(&mu_);
  ++stats_.bad_frames;
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
