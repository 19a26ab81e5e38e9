#include "policies/hub_policy.h"

#include <algorithm>

namespace ipnfs {

void HubPolicy::Join(PortId port, PortMode mode) {
  if (!Receives(mode)) return;
  receivers_.insert(std::upper_bound(receivers_.begin(), receivers_.end(), port), port);
}

void HubPolicy::Leave(PortId port) {
  auto it = std::lower_bound(receivers_.begin(), receivers_.end(), port);
  if (it != receivers_.end() && *it == port) receivers_.erase(it);
}

absl::Status HubPolicy::Route(PortId ingress, absl::Span<const uint8_t>, absl::Time,
                              const PortView&, std::vector<PortId>* destinations) {
  for (PortId port : receivers_) {
    if (port != ingress) destinations->push_back(port);
  }
  return absl::OkStatus();
}

}  // namespace ipnfs
