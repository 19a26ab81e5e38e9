// NamespaceNetworks: every network the namespace made, named or not (a network removed from the
// tree lives on while ports hold it), so that all of them keep ticking.
//
// Holds weak references only: the tree's nodes and the ports own the networks. Thread-compatible:
// the Namespace calls Create() and Live() with its lock held; Reconfigure() and TickAll() need no
// namespace lock (a network locks itself).
#ifndef IPNFS_CORE_NAMESPACE_NETWORKS_H_
#define IPNFS_CORE_NAMESPACE_NETWORKS_H_

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/network.h"
#include "core/network_config.h"

namespace ipnfs {

class NamespaceNetworks {
 public:
  // The policy events of networks that had some, by network.
  using EventsByNetwork = absl::flat_hash_map<const Network*, std::vector<PolicyEvent>>;

  // A new network with `config` and the policy it names (the registry's error for an unknown
  // one). The caller owns it; this keeps a weak reference.
  absl::StatusOr<std::shared_ptr<Network>> Create(const NetworkConfig& config);

  // Gives `network` the settings `config`, switching its policy if that changed; on an error
  // (unknown policy) the network is unchanged.
  static absl::Status Reconfigure(Network& network, const NetworkConfig& config, absl::Time now);

  // Every network still alive.
  std::vector<std::shared_ptr<Network>> Live() const;

  // Lets each of `networks` move on to `now` (flow-control stalls, policy ageing) and collects the
  // events their policies reported.
  static EventsByNetwork TickAll(const std::vector<std::shared_ptr<Network>>& networks,
                                 absl::Time now);

 private:
  std::vector<std::weak_ptr<Network>> networks_;
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_NAMESPACE_NETWORKS_H_
