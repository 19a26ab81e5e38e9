// The registry of delivery policies: names, one-line descriptions and factories.
#ifndef IPNFS_POLICIES_POLICY_REGISTRY_H_
#define IPNFS_POLICIES_POLICY_REGISTRY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "policies/policy.h"

namespace ipnfs {

struct PolicyInfo {
  absl::string_view name;
  absl::string_view description;
  std::unique_ptr<Policy> (*create)();
};

// Every policy, in the order users see them.
absl::Span<const PolicyInfo> Policies();

// A new policy by name; InvalidArgument for an unknown name.
absl::StatusOr<std::unique_ptr<Policy>> CreatePolicy(absl::string_view name);

}  // namespace ipnfs

#endif  // IPNFS_POLICIES_POLICY_REGISTRY_H_
