#include "core/flow_control.h"

#include <cerrno>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "core/errno_status.h"

namespace ipnfs {

// The policy's view of the ports at `now`: which have room and which hold senders back. Made for
// one call of the policy, with the network's lock held.
class FlowControl::QueueRoom final : public PortView {
 public:
  QueueRoom(const FlowControl& flow, const Network& network, absl::Time now)
      : flow_(flow), network_(network), now_(now) {}

  bool HasRoom(PortId id) const override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    const Port* port = Find(id);
    return port != nullptr && port->HasRoom();
  }
  bool HoldsBack(PortId id) const override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    const Port* port = Find(id);
    return port != nullptr && flow_.HoldsBack(network_, *port, now_);
  }
  bool OthersHoldBack(PortId ingress) const override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (const auto& [id, port] : network_.ports_) {
      if (id != ingress && Receives(port->mode()) && flow_.HoldsBack(network_, *port, now_)) {
        return true;
      }
    }
    return false;
  }

 private:
  const Port* Find(PortId id) const ABSL_NO_THREAD_SAFETY_ANALYSIS {
    auto it = network_.ports_.find(id);
    return it == network_.ports_.end() ? nullptr : it->second;
  }

  const FlowControl& flow_;
  const Network& network_;
  const absl::Time now_;
};

absl::Status FlowControl::Route(const Network& network, PortId from,
                                absl::Span<const uint8_t> bytes, absl::Time now,
                                std::vector<PortId>* destinations) const {
  return network.policy_->Route(from, bytes, now, QueueRoom(*this, network, now), destinations);
}

bool FlowControl::MustWait(const Network& network, const Port& from, Destinations chosen,
                           const std::vector<PortId>& destinations, absl::Time now) const {
  if (network.config_.flow != Flow::kBlock) return false;
  return chosen == Destinations::kNoneWithRoom || from.blocked_sends_ > 0 ||
         HeldBack(network, destinations, now);
}

void FlowControl::Park(Port& from, PacketRef packet, Destinations chosen,
                       std::vector<PortId> destinations, std::unique_ptr<SendWaiter> waiter) {
  ++from.blocked_sends_;
  blocked_.push_back(BlockedSend{.from = &from,
                                 .packet = std::move(packet),
                                 .chosen = chosen,
                                 .destinations = std::move(destinations),
                                 .waiter = std::move(waiter)});
}

void FlowControl::Release(Network& network, absl::Time now, Completions& done) {
  absl::flat_hash_set<const Port*> still_waiting;  // Senders whose oldest send must wait.
  for (auto it = blocked_.begin(); it != blocked_.end();) {
    Port& from = *it->from;
    if (still_waiting.contains(&from)) {
      ++it;
      continue;
    }
    absl::Status routed = RouteAgain(network, *it, now);
    if (absl::IsUnavailable(routed) || HeldBack(network, it->destinations, now)) {
      still_waiting.insert(&from);
      ++it;
      continue;
    }
    --from.blocked_sends_;
    if (routed.ok()) {
      network.DeliverAllLocked(from, it->packet, it->destinations, now, done);
      done.Complete(std::move(it->waiter));
    } else {
      done.Fail(std::move(it->waiter), StatusToErrno(routed));
    }
    it = blocked_.erase(it);
  }
  NotifyWriters(network, now, done);
}

bool FlowControl::Writable(const Network& network, const Port& port, absl::Time now) const {
  if (!Sends(port.mode()) || port.blocked_sends_ > 0) return false;
  if (network.config_.flow != Flow::kBlock) return true;
  return !network.policy_->WouldWait(port.id(), QueueRoom(*this, network, now));
}

bool FlowControl::Cancel(Port& port, uint64_t waiter_id, Completions& done) {
  for (auto it = blocked_.begin(); it != blocked_.end(); ++it) {
    if (it->from == &port && it->waiter->id() == waiter_id) {
      done.Fail(std::move(it->waiter), EINTR);
      --port.blocked_sends_;
      blocked_.erase(it);
      return true;
    }
  }
  return false;
}

void FlowControl::CancelAll(Port& port, int error_number, Completions& done) {
  for (auto it = blocked_.begin(); it != blocked_.end();) {
    if (it->from != &port) {
      ++it;
      continue;
    }
    done.Fail(std::move(it->waiter), error_number);
    it = blocked_.erase(it);
  }
  port.blocked_sends_ = 0;
}

bool FlowControl::HoldsBack(const Network& network, const Port& port, absl::Time now) const {
  if (port.HasRoom()) return false;
  if (network.config_.flow != Flow::kBlock) return false;
  return now - port.last_read_ <
         network.config_.stall;  // A stalled reader is lossy for the moment.
}

bool FlowControl::HeldBack(const Network& network, const std::vector<PortId>& destinations,
                           absl::Time now) const {
  if (network.config_.flow != Flow::kBlock) return false;
  for (PortId id : destinations) {
    auto it = network.ports_.find(id);
    if (it != network.ports_.end() && HoldsBack(network, *it->second, now)) return true;
  }
  return false;
}

absl::Status FlowControl::RouteAgain(const Network& network, BlockedSend& send, absl::Time now) {
  if (send.chosen == Destinations::kChosen) return absl::OkStatus();
  std::vector<PortId> destinations;
  absl::Status routed = Route(network, send.from->id(), send.packet->bytes(), now, &destinations);
  if (routed.ok()) {
    send.destinations = std::move(destinations);
    send.chosen = Destinations::kChosen;
  }
  return routed;
}

void FlowControl::NotifyWriters(Network& network, absl::Time now, Completions& done) {
  if (network.config_.flow != Flow::kBlock) return;
  for (auto& [id, port] : network.ports_) {
    if (port->poll_ && Sends(port->mode()) && Writable(network, *port, now)) {
      done.Notify(std::move(port->poll_));
    }
  }
}

}  // namespace ipnfs
