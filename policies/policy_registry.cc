#include "policies/policy_registry.h"

#include "absl/strings/str_cat.h"
#include "policies/anycast_policy.h"
#include "policies/hub_policy.h"
#include "policies/switch_policy.h"

namespace ipnfs {
namespace {

template <typename T>
std::unique_ptr<Policy> Make() {
  return std::make_unique<T>();
}

constexpr PolicyInfo kPolicies[] = {
    {"hub", "every packet to every other receiving port", &Make<HubPolicy>},
    {"switch", "learning Ethernet switch: frames to the port of their destination MAC, per VLAN",
     &Make<SwitchPolicy>},
    {"anycast", "every packet to one other receiving port with room, in turn",
     &Make<AnycastPolicy>},
};

}  // namespace

absl::Span<const PolicyInfo> Policies() { return kPolicies; }

absl::StatusOr<std::unique_ptr<Policy>> CreatePolicy(absl::string_view name) {
  for (const PolicyInfo& info : kPolicies) {
    if (info.name == name) return info.create();
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown policy '", name, "'"));
}

}  // namespace ipnfs
