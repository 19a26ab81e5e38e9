// SwitchPolicy: a learning Ethernet switch (user.ipn.policy=switch), in the spirit of the Linux
// bridge (br_input.c, br_forward.c) and AF_IPN's kvde_switch.
//
// Every packet is an Ethernet frame. A frame shorter than its header (14 bytes, 18 when 802.1Q
// tagged) is rejected with InvalidArgument: nothing is delivered and the sender gets EINVAL.
// Learning: the source of a frame is recorded in a MacTable under (MAC, VLAN), untagged frames
// being VLAN 0, only when the source is a valid unicast address (never broadcast, multicast or
// all-zero) and the ingress port can receive. A send-only port is never learned: frames sent to
// its address would be lost, so they are flooded instead. Ports are trunks: tags are neither
// added nor removed, and the same MAC on two VLANs makes two entries.
// Forwarding: a unicast destination with a live entry on the frame's VLAN goes to that one port,
// or nowhere when that port is the ingress ("filtered"). Broadcast, multicast and unknown unicast
// destinations are flooded to every receive-capable port but the ingress.
// The table follows PolicyOptions (ageing, max_macs) and loses a port's entries when it leaves.
// Counters, in this order: mac_entries (held now, expired ones before the next Tick included),
// mac_learned, mac_moves, mac_aged, mac_flushed, mac_table_full (sources not learned because the
// table was full), frames_unicast, frames_flooded, frames_filtered, frames_invalid.
// Read-only attribute "mactable": MacTable::Format() at the time asked.
// Pure logic; thread-compatible (the network's lock serialises calls).
#ifndef IPNFS_POLICIES_SWITCH_POLICY_H_
#define IPNFS_POLICIES_SWITCH_POLICY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "policies/ethernet_frame.h"
#include "policies/mac_table.h"
#include "policies/policy.h"

namespace ipnfs {

class SwitchPolicy final : public Policy {
 public:
  static constexpr absl::string_view kMacTableAttribute = "mactable";

  absl::string_view name() const override { return "switch"; }
  void Join(PortId port, PortMode mode) override;
  void Leave(PortId port) override;
  absl::Status Route(PortId ingress, absl::Span<const uint8_t> packet, absl::Time now,
                     const PortView& ports, std::vector<PortId>* destinations) override;
  // Removes expired table entries.
  void Tick(absl::Time now) override;
  void Configure(const PolicyOptions& options) override;
  std::vector<PolicyCounter> Counters() const override;
  std::vector<absl::string_view> ReadOnlyAttributes() const override;
  absl::StatusOr<std::string> ReadAttribute(absl::string_view name, absl::Time now) const override;
  // "mac-move" events, at most kMaxEvents between calls (later ones are only counted).
  std::vector<PolicyEvent> TakeEvents() override;

  static constexpr size_t kMaxEvents = 64;

 private:
  bool IsReceiver(PortId port) const;
  void LearnSource(PortId ingress, const EthernetFrame& frame, absl::Time now);
  void Flood(PortId ingress, std::vector<PortId>* destinations) const;

  std::vector<PortId> receivers_;  // Sorted, so floods go out in join order.
  MacTable table_;
  uint64_t frames_unicast_ = 0;
  uint64_t frames_flooded_ = 0;
  uint64_t frames_filtered_ = 0;
  uint64_t frames_invalid_ = 0;
  std::vector<PolicyEvent> events_;
};

}  // namespace ipnfs

#endif  // IPNFS_POLICIES_SWITCH_POLICY_H_
