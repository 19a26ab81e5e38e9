// HubPolicy: every packet goes to every other receive-capable port (AF_IPN's broadcast policy).
// Pure logic; thread-compatible (the network's lock serialises calls).
#ifndef IPNFS_POLICIES_HUB_POLICY_H_
#define IPNFS_POLICIES_HUB_POLICY_H_

#include <vector>

#include "policies/policy.h"

namespace ipnfs {

class HubPolicy final : public Policy {
 public:
  absl::string_view name() const override { return "hub"; }
  void Join(PortId port, PortMode mode) override;
  void Leave(PortId port) override;
  absl::Status Route(PortId ingress, absl::Span<const uint8_t> packet, absl::Time now,
                     const PortView& ports, std::vector<PortId>* destinations) override;
  void Tick(absl::Time) override {}

 private:
  std::vector<PortId> receivers_;  // Sorted, so delivery order is join order.
};

}  // namespace ipnfs

#endif  // IPNFS_POLICIES_HUB_POLICY_H_
