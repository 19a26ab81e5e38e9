// AnycastPolicy: every packet goes to exactly one other receive-capable port
// (user.ipn.policy=anycast), for spreading work over a pool of readers.
//
// Receivers take turns (round-robin in join order, one cursor for the whole network, never the
// ingress); a receiver whose queue is full now (PortView::HasRoom) is passed over this round, and
// the packet goes to the next one with room. When no other receiver has room and one of them holds
// senders back (flow control "block", PortView::HoldsBack), Route returns Unavailable: the packet
// waits and is routed again later. Otherwise a packet is dropped only when no other receiver has
// room: counted as anycast_no_room, or as anycast_no_receiver when there is no other receiver.
//
// Counters, in this order: anycast_no_room, anycast_no_receiver.
// Pure logic; thread-compatible (the network's lock serialises calls).
#ifndef IPNFS_POLICIES_ANYCAST_POLICY_H_
#define IPNFS_POLICIES_ANYCAST_POLICY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "policies/policy.h"

namespace ipnfs {

class AnycastPolicy final : public Policy {
 public:
  absl::string_view name() const override { return "anycast"; }
  void Join(PortId port, PortMode mode) override;
  void Leave(PortId port) override;
  absl::Status Route(PortId ingress, absl::Span<const uint8_t> packet, absl::Time now,
                     const PortView& ports, std::vector<PortId>* destinations) override;
  // True when no other receiver has room and one of them holds senders back.
  bool WouldWait(PortId ingress, const PortView& ports) const override;
  void Tick(absl::Time) override {}
  std::vector<PolicyCounter> Counters() const override;

 private:
  // Index in receivers_ of the first one after the last chosen (which may have left since).
  size_t NextTurn() const;

  std::vector<PortId> receivers_;      // Sorted: join order.
  std::optional<PortId> last_chosen_;  // The turn passes to the next receiver after this id.
  uint64_t no_room_ = 0;
  uint64_t no_receiver_ = 0;
};

}  // namespace ipnfs

#endif  // IPNFS_POLICIES_ANYCAST_POLICY_H_
