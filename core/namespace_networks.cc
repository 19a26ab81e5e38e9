#include "core/namespace_networks.h"

#include <utility>

#include "policies/policy_registry.h"

namespace ipnfs {

absl::StatusOr<std::shared_ptr<Network>> NamespaceNetworks::Create(const NetworkConfig& config) {
  absl::StatusOr<std::unique_ptr<Policy>> policy = CreatePolicy(config.policy);
  if (!policy.ok()) return policy.status();
  std::shared_ptr<Network> network = Network::Create(*std::move(policy), config);
  std::erase_if(networks_, [](const std::weak_ptr<Network>& n) { return n.expired(); });
  networks_.push_back(network);
  return network;
}

absl::Status NamespaceNetworks::Reconfigure(Network& network, const NetworkConfig& config,
                                            absl::Time now) {
  if (config.policy != network.config().policy) {
    absl::StatusOr<std::unique_ptr<Policy>> policy = CreatePolicy(config.policy);
    if (!policy.ok()) return policy.status();
    network.SetPolicy(*std::move(policy));
  }
  network.SetConfig(config, now);
  return absl::OkStatus();
}

std::vector<std::shared_ptr<Network>> NamespaceNetworks::Live() const {
  std::vector<std::shared_ptr<Network>> live;
  for (const std::weak_ptr<Network>& weak : networks_) {
    if (std::shared_ptr<Network> network = weak.lock()) live.push_back(std::move(network));
  }
  return live;
}

NamespaceNetworks::EventsByNetwork NamespaceNetworks::TickAll(
    const std::vector<std::shared_ptr<Network>>& networks, absl::Time now) {
  EventsByNetwork events;
  for (const std::shared_ptr<Network>& network : networks) {
    network->Tick(now);
    std::vector<PolicyEvent> taken = network->TakeEvents();
    if (!taken.empty()) events.emplace(network.get(), std::move(taken));
  }
  return events;
}

}  // namespace ipnfs
