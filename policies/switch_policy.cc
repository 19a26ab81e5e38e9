#include "policies/switch_policy.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"

namespace ipnfs {

void SwitchPolicy::Join(PortId port, PortMode mode) {
  if (!Receives(mode) || IsReceiver(port)) return;
  receivers_.insert(std::upper_bound(receivers_.begin(), receivers_.end(), port), port);
}

void SwitchPolicy::Leave(PortId port) {
  auto it = std::lower_bound(receivers_.begin(), receivers_.end(), port);
  if (it != receivers_.end() && *it == port) receivers_.erase(it);
  table_.Flush(port);
}

bool SwitchPolicy::IsReceiver(PortId port) const {
  return std::binary_search(receivers_.begin(), receivers_.end(), port);
}

void SwitchPolicy::LearnSource(PortId ingress, const EthernetFrame& frame, absl::Time now) {
  if (!frame.source().IsValidUnicast() || !IsReceiver(ingress)) return;
  const std::optional<PortId> before = table_.Lookup(frame.source(), frame.vlan(), now);
  if (table_.Learn(frame.source(), frame.vlan(), ingress, now) == MacTable::Learned::kMoved &&
      before.has_value() && events_.size() < kMaxEvents) {
    events_.push_back(PolicyEvent{
        .kind = "mac-move",
        .details = absl::StrCat("mac=", frame.source().ToString(), " vlan=", frame.vlan(),
                                " from=", *before, " to=", ingress)});
  }
}

std::vector<PolicyEvent> SwitchPolicy::TakeEvents() {
  std::vector<PolicyEvent> taken;
  taken.swap(events_);
  return taken;
}

void SwitchPolicy::Flood(PortId ingress, std::vector<PortId>* destinations) const {
  for (PortId port : receivers_) {
    if (port != ingress) destinations->push_back(port);
  }
}

absl::Status SwitchPolicy::Route(PortId ingress, absl::Span<const uint8_t> packet, absl::Time now,
                                 const PortView&, std::vector<PortId>* destinations) {
  absl::StatusOr<EthernetFrame> frame = EthernetFrame::Parse(packet);
  if (!frame.ok()) {
    ++frames_invalid_;
    return frame.status();
  }
  LearnSource(ingress, *frame, now);
  if (!frame->destination().IsMulticast()) {
    const std::optional<PortId> port = table_.Lookup(frame->destination(), frame->vlan(), now);
    if (port.has_value() && *port == ingress) {
      ++frames_filtered_;  // The destination is where the frame came from.
      return absl::OkStatus();
    }
    if (port.has_value()) {
      ++frames_unicast_;
      destinations->push_back(*port);
      return absl::OkStatus();
    }
  }
  ++frames_flooded_;
  Flood(ingress, destinations);
  return absl::OkStatus();
}

void SwitchPolicy::Tick(absl::Time now) { table_.Expire(now); }

void SwitchPolicy::Configure(const PolicyOptions& options) { table_.Configure(options); }

std::vector<PolicyCounter> SwitchPolicy::Counters() const {
  const MacTable::Stats& stats = table_.stats();
  return {
      {"mac_entries", table_.size()},
      {"mac_learned", stats.learned},
      {"mac_moves", stats.moves},
      {"mac_aged", stats.aged},
      {"mac_flushed", stats.flushed},
      {"mac_table_full", stats.table_full},
      {"frames_unicast", frames_unicast_},
      {"frames_flooded", frames_flooded_},
      {"frames_filtered", frames_filtered_},
      {"frames_invalid", frames_invalid_},
  };
}

std::vector<absl::string_view> SwitchPolicy::ReadOnlyAttributes() const {
  return {kMacTableAttribute};
}

absl::StatusOr<std::string> SwitchPolicy::ReadAttribute(absl::string_view name,
                                                        absl::Time now) const {
  if (name != kMacTableAttribute) return absl::NotFoundError(name);
  return table_.Format(now);
}

}  // namespace ipnfs
