#include "core/network.h"

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/errno_status.h"
#include "core/log.h"

namespace ipnfs {

// Lets the policy ask whether a port's queue has room.
class Network::QueueRoom final : public PortView {
 public:
  explicit QueueRoom(const Network& network) : network_(network) {}
  bool HasRoom(PortId id) const override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    auto it = network_.ports_.find(id);
    if (it == network_.ports_.end()) return false;
    const Port& port = *it->second;
    return !port.parked_.empty() || port.queue_.size() < port.queue_.capacity();
  }

 private:
  const Network& network_;
};

// What to do once the network lock is released: reply to reads, notify pollers.
class Network::Completions {
 public:
  Completions() = default;
  Completions(const Completions&) = delete;
  Completions& operator=(const Completions&) = delete;
  ~Completions() {
    for (auto& [waiter, packet] : reads_) waiter->Complete(*packet);
    for (auto& [waiter, error_number] : failures_) waiter->Fail(error_number);
    for (auto& poll : polls_) poll->Notify();
  }

  void Complete(std::unique_ptr<ReadWaiter> waiter, PacketRef packet) {
    reads_.emplace_back(std::move(waiter), std::move(packet));
  }
  void Fail(std::unique_ptr<ReadWaiter> waiter, int error_number) {
    failures_.emplace_back(std::move(waiter), error_number);
  }
  void Notify(std::unique_ptr<PollWaiter> poll) { polls_.push_back(std::move(poll)); }

 private:
  std::vector<std::pair<std::unique_ptr<ReadWaiter>, PacketRef>> reads_;
  std::vector<std::pair<std::unique_ptr<ReadWaiter>, int>> failures_;
  std::vector<std::unique_ptr<PollWaiter>> polls_;
};

std::shared_ptr<Network> Network::Create(std::unique_ptr<Policy> policy, NetworkConfig config) {
  return std::shared_ptr<Network>(new Network(std::move(policy), config));
}

Network::Network(std::unique_ptr<Policy> policy, NetworkConfig config)
    : policy_(std::move(policy)), config_(config) {}

std::unique_ptr<Port> Network::Join(PortMode mode, PortOwner owner) {
  absl::MutexLock lock(&mu_);
  const PortId id = next_port_id_++;
  auto port = std::unique_ptr<Port>(
      new Port(shared_from_this(), id, mode, std::move(owner), config_.qlen));
  ports_.emplace(id, port.get());
  policy_->Join(id, mode);
  return port;
}

void Network::Leave(Port& port) {
  absl::MutexLock lock(&mu_);
  policy_->Leave(port.id());
  ports_.erase(port.id());
}

absl::Status Network::Send(Port& from, absl::Span<const uint8_t> bytes, absl::Time now) {
  if (!Sends(from.mode())) return ErrnoError(EBADF, "port is receive-only");
  if (bytes.empty()) return absl::OkStatus();
  {
    absl::MutexLock lock(&mu_);
    if (bytes.size() > config_.mtu) {
      ++stats_.drops_too_big;
      return ErrnoError(EMSGSIZE, absl::StrCat(bytes.size(), " bytes exceed the MTU of ",
                                               config_.mtu));
    }
  }
  // Copy the bytes once, outside the lock; every receiver shares this packet.
  const PacketRef packet = Packet::Create(bytes, now);
  Completions done;  // Runs after the lock below is released (declared first, destroyed last).
  absl::MutexLock lock(&mu_);
  destinations_.clear();
  absl::Status routed = policy_->Route(from.id(), bytes, now, QueueRoom(*this), &destinations_);
  if (!routed.ok()) return routed;
  ++stats_.packets_sent;
  stats_.bytes_sent += bytes.size();
  ++from.counters_.packets_out;
  from.counters_.bytes_out += bytes.size();
  last_send_ = now;
  for (PortId id : destinations_) {
    auto it = ports_.find(id);
    IPN_CHECK(it != ports_.end()) << "policy " << policy_->name() << " routed to unknown port "
                                  << id;
    DeliverLocked(*it->second, packet, done);
  }
  return absl::OkStatus();
}

void Network::DeliverLocked(Port& port, const PacketRef& packet, Completions& done) {
  if (!port.parked_.empty()) {
    std::unique_ptr<ReadWaiter> waiter = std::move(port.parked_.front());
    port.parked_.pop_front();
    CountReceivedLocked(port, *packet, waiter->max_bytes());
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

void Network::CountReceivedLocked(Port& port, const Packet& packet, size_t max_bytes) {
  ++port.counters_.packets_in;
  port.counters_.bytes_in += packet.size();
  ++stats_.packets_received;
  stats_.bytes_received += packet.size();
  if (packet.size() > max_bytes) {
    ++port.counters_.truncated;
    ++stats_.drops_truncated;
  }
}

void Network::Receive(Port& port, std::unique_ptr<ReadWaiter> waiter, bool nonblocking) {
  Completions done;
  absl::MutexLock lock(&mu_);
  if (!Receives(port.mode())) {
    done.Fail(std::move(waiter), EBADF);
  } else if (PacketRef packet = port.queue_.Pop()) {
    CountReceivedLocked(port, *packet, waiter->max_bytes());
    done.Complete(std::move(waiter), std::move(packet));
  } else if (nonblocking) {
    done.Fail(std::move(waiter), EAGAIN);
  } else if (waiter->Abandoned()) {
    done.Fail(std::move(waiter), EINTR);
  } else {
    port.parked_.push_back(std::move(waiter));
  }
}

void Network::CancelRead(Port& port, uint64_t waiter_id) {
  Completions done;
  absl::MutexLock lock(&mu_);
  for (auto it = port.parked_.begin(); it != port.parked_.end(); ++it) {
    if ((*it)->id() == waiter_id) {
      done.Fail(std::move(*it), EINTR);
      port.parked_.erase(it);
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
  return PollState{.readable = Receives(port.mode()) && !port.queue_.empty(), .writable = true};
}

void Network::CancelAll(Port& port, int error_number) {
  Completions done;
  std::unique_ptr<PollWaiter> poll;
  absl::MutexLock lock(&mu_);
  for (auto& waiter : port.parked_) done.Fail(std::move(waiter), error_number);
  port.parked_.clear();
  poll = std::move(port.poll_);
}

NetworkStats Network::stats() const {
  absl::MutexLock lock(&mu_);
  NetworkStats stats = stats_;
  stats.ports = ports_.size();
  return stats;
}

NetworkConfig Network::config() const {
  absl::MutexLock lock(&mu_);
  return config_;
}

absl::Time Network::last_send() const {
  absl::MutexLock lock(&mu_);
  return last_send_;
}

}  // namespace ipnfs
