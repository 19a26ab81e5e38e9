#include "policies/anycast_policy.h"

#include <algorithm>

namespace ipnfs {

void AnycastPolicy::Join(PortId port, PortMode mode) {
  if (!Receives(mode)) return;
  auto it = std::lower_bound(receivers_.begin(), receivers_.end(), port);
  if (it == receivers_.end() || *it != port) receivers_.insert(it, port);
}

void AnycastPolicy::Leave(PortId port) {
  auto it = std::lower_bound(receivers_.begin(), receivers_.end(), port);
  if (it != receivers_.end() && *it == port) receivers_.erase(it);
}

size_t AnycastPolicy::NextTurn() const {
  if (!last_chosen_.has_value()) return 0;
  return std::upper_bound(receivers_.begin(), receivers_.end(), *last_chosen_) - receivers_.begin();
}

absl::Status AnycastPolicy::Route(PortId ingress, absl::Span<const uint8_t>, absl::Time,
                                  const PortView& ports, std::vector<PortId>* destinations) {
  const size_t count = receivers_.size();
  const size_t first = NextTurn();
  bool any_receiver = false;
  for (size_t i = 0; i < count; ++i) {
    const PortId port = receivers_[(first + i) % count];
    if (port == ingress) continue;
    any_receiver = true;
    if (!ports.HasRoom(port)) continue;
    last_chosen_ = port;
    destinations->push_back(port);
    return absl::OkStatus();
  }
  if (any_receiver && WouldWait(ingress, ports)) {
    return absl::UnavailableError("no receiver has room");
  }
  ++(any_receiver ? no_room_ : no_receiver_);
  return absl::OkStatus();
}

bool AnycastPolicy::WouldWait(PortId ingress, const PortView& ports) const {
  bool held_back = false;
  for (PortId port : receivers_) {
    if (port == ingress) continue;
    if (ports.HasRoom(port)) return false;
    held_back = held_back || ports.HoldsBack(port);
  }
  return held_back;
}

std::vector<PolicyCounter> AnycastPolicy::Counters() const {
  return {{"anycast_no_room", no_room_}, {"anycast_no_receiver", no_receiver_}};
}

}  // namespace ipnfs
