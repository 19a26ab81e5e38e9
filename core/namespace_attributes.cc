#include "core/namespace_attributes.h"

#include <algorithm>
#include <cerrno>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "core/errno_status.h"
#include "core/introspection.h"
#include "core/namespace_networks.h"
#include "core/namespace_permissions.h"
#include "policies/policy_registry.h"

namespace ipnfs {
namespace {

// Read-only on every network; a policy may offer more (e.g. "mactable").
constexpr absl::string_view kReadOnly[] = {"stats", "ports"};
// Read-only on the mount's root: the policies there are, one "NAME DESCRIPTION" line each.
constexpr absl::string_view kPoliciesName = "policies";

bool IsReadOnlyName(absl::string_view name) {
  for (absl::string_view read_only : kReadOnly) {
    if (name == read_only) return true;
  }
  return name == kPoliciesName || name == "mactable";
}

std::string PoliciesText() {
  std::string text;
  for (const PolicyInfo& info : Policies()) {
    absl::StrAppend(&text, info.name, " ", info.description, "\n");
  }
  return text;
}

absl::Status NoAttribute(absl::string_view name) {
  return ErrnoError(ENODATA, absl::StrCat("no attribute ", name));
}

std::string Prefixed(absl::string_view name) { return absl::StrCat(kAttributePrefix, name); }

}  // namespace

NamespaceAttributes::NamespaceAttributes(NamespaceTree& tree, NamespaceInterfaces& interfaces,
                                         const NetworkConfig& defaults, const SettingLimits& limits)
    : tree_(tree), interfaces_(interfaces), defaults_(defaults), limits_(limits) {}

absl::StatusOr<std::string> NamespaceAttributes::Get(ino_t ino, absl::string_view name,
                                                     absl::Time now) const {
  if (IsVirtual(ino)) return NoAttribute(name);
  absl::StatusOr<NamespaceNode*> node = tree_.FindNode(ino);
  if (!node.ok()) return node.status();
  absl::string_view setting = name;
  if (!absl::ConsumePrefix(&setting, kAttributePrefix)) return NoAttribute(name);
  if ((*node)->network) {
    absl::StatusOr<std::string> value = GetOfNetwork(**node, setting, now);
    if (value.ok()) return value;
  } else if ((*node)->is_directory()) {
    if (ino == kRootIno && setting == kPoliciesName) return PoliciesText();
    auto it = (*node)->defaults.find(std::string(setting));
    if (it != (*node)->defaults.end()) return it->second;
  }
  return NoAttribute(name);
}

absl::StatusOr<std::string> NamespaceAttributes::GetOfNetwork(const NamespaceNode& node,
                                                              absl::string_view setting,
                                                              absl::Time now) const {
  const Network& network = *node.network;
  if (IsSettingName(setting)) return FormatSetting(setting, network.config());
  if (setting == "stats") return FormatStats(network.stats());
  if (setting == "ports") return FormatPorts(network.ports());
  if (std::optional<InterfaceKind> kind = NamespaceInterfaces::KindOf(setting)) {
    std::vector<std::string> names = interfaces_.Attached(*kind, network);
    if (!names.empty()) return absl::StrJoin(names, ",");
  }
  return network.ReadPolicyAttribute(setting, now);
}

absl::StatusOr<std::vector<std::string>> NamespaceAttributes::List(ino_t ino) const {
  if (IsVirtual(ino)) return std::vector<std::string>();
  absl::StatusOr<NamespaceNode*> node = tree_.FindNode(ino);
  if (!node.ok()) return node.status();
  std::vector<std::string> names;
  if (const Network* network = (*node)->network.get()) {
    for (absl::string_view setting : SettingNames()) names.push_back(Prefixed(setting));
    for (absl::string_view read_only : kReadOnly) names.push_back(Prefixed(read_only));
    for (const std::string& name : network->policy_attributes()) names.push_back(Prefixed(name));
    for (InterfaceKind kind : NamespaceInterfaces::kKinds) {
      if (!interfaces_.Attached(kind, *network).empty()) {
        names.push_back(Prefixed(NamespaceInterfaces::NameOf(kind)));
      }
    }
  } else {
    if (ino == kRootIno) names.push_back(Prefixed(kPoliciesName));
    for (const auto& [setting, value] : (*node)->defaults) names.push_back(Prefixed(setting));
  }
  return names;
}

absl::StatusOr<std::pair<NamespaceNode*, absl::string_view>> NamespaceAttributes::ToChange(
    ino_t ino, absl::string_view name, int unknown_errno, const OperationContext& context) const {
  if (IsVirtual(ino)) return ErrnoError(EROFS, "read-only view");
  absl::StatusOr<NamespaceNode*> node = tree_.FindNode(ino);
  if (!node.ok()) return node.status();
  absl::string_view setting = name;
  if (!absl::ConsumePrefix(&setting, kAttributePrefix) ||
      (!IsSettingName(setting) && !IsReadOnlyName(setting) &&
       !NamespaceInterfaces::KindOf(setting)) ||
      (!(*node)->network && !(*node)->is_directory())) {
    return ErrnoError(unknown_errno, absl::StrCat("no such attribute here: ", name));
  }
  if (absl::Status allowed = CheckMayManage((*node)->attr, context); !allowed.ok()) {
    return allowed;
  }
  return std::make_pair(*node, setting);
}

absl::Status NamespaceAttributes::Set(ino_t ino, absl::string_view name, absl::string_view value,
                                      const OperationContext& context) {
  absl::StatusOr<std::pair<NamespaceNode*, absl::string_view>> target =
      ToChange(ino, name, ENOTSUP, context);
  if (!target.ok()) return target.status();
  auto [node, setting] = *target;
  if (std::optional<InterfaceKind> kind = NamespaceInterfaces::KindOf(setting)) {
    if (!node->network) return ErrnoError(EPERM, "interfaces attach to networks");
    return SetInterfaces(*node, *kind, NamespaceInterfaces::SplitNames(value), context.now);
  }
  if (IsReadOnlyName(setting) || (node->is_directory() && !IsSettingName(setting))) {
    return ErrnoError(EPERM, absl::StrCat(name, " is read-only"));
  }
  return SetSetting(*node, name, setting, value, context.now);
}

absl::Status NamespaceAttributes::Remove(ino_t ino, absl::string_view name,
                                         const OperationContext& context) {
  absl::StatusOr<std::pair<NamespaceNode*, absl::string_view>> target =
      ToChange(ino, name, ENODATA, context);
  if (!target.ok()) return target.status();
  auto [node, setting] = *target;
  if (IsReadOnlyName(setting)) return ErrnoError(EPERM, absl::StrCat(name, " is read-only"));
  if (std::optional<InterfaceKind> kind = NamespaceInterfaces::KindOf(setting)) {
    if (!node->network) return NoAttribute(name);
    return SetInterfaces(*node, *kind, {}, context.now);
  }
  return ResetSetting(*node, name, setting, context.now);
}

absl::Status NamespaceAttributes::SetInterfaces(NamespaceNode& node, InterfaceKind kind,
                                                const std::vector<std::string>& wanted,
                                                absl::Time now) {
  absl::StatusOr<NamespaceInterfaces::Changes> changes =
      interfaces_.Set(kind, wanted, node.network);
  if (!changes.ok()) return changes.status();
  const absl::string_view event = NamespaceInterfaces::NameOf(kind);
  for (const std::string& name : changes->detached) {
    tree_.Publish(node, event, absl::StrCat("detach=", name), now);
  }
  for (const std::string& name : changes->attached) {
    tree_.Publish(node, event, absl::StrCat("attach=", name), now);
  }
  node.attr.ctime = now;
  return absl::OkStatus();
}

absl::Status NamespaceAttributes::SetSetting(NamespaceNode& node, absl::string_view name,
                                             absl::string_view setting, absl::string_view value,
                                             absl::Time now) {
  NetworkConfig config = node.network ? node.network->config() : defaults_;
  if (absl::Status valid = ApplySetting(setting, value, limits_, &config); !valid.ok()) {
    return valid;
  }
  const std::string old_policy = node.network ? node.network->config().policy : "";
  if (node.network) {
    if (absl::Status done = NamespaceNetworks::Reconfigure(*node.network, config, now);
        !done.ok()) {
      return done;
    }
  } else {
    node.defaults[std::string(setting)] = FormatSetting(setting, config);
  }
  node.attr.ctime = now;
  if (node.network && setting == "policy") {
    tree_.Publish(node, "policy", absl::StrCat("old=", old_policy, " new=", config.policy), now);
  } else {
    tree_.Publish(node, "set", absl::StrCat(name, "=", FormatSetting(setting, config)), now);
  }
  return absl::OkStatus();
}

absl::Status NamespaceAttributes::ResetSetting(NamespaceNode& node, absl::string_view name,
                                               absl::string_view setting, absl::Time now) {
  if (!node.network) {
    if (node.defaults.erase(std::string(setting)) == 0) return NoAttribute(name);
    tree_.Publish(node, "set", absl::StrCat(name, "="), now);
    node.attr.ctime = now;
    return absl::OkStatus();
  }
  // Back to what the network would inherit if it were created now.
  const NamespaceNode* parent = tree_.Find(node.parent);
  const NetworkConfig inherited = parent != nullptr ? InheritedConfig(*parent) : defaults_;
  NetworkConfig config = node.network->config();
  if (absl::Status reset =
          ApplySetting(setting, FormatSetting(setting, inherited), limits_, &config);
      !reset.ok()) {
    return reset;
  }
  if (absl::Status done = NamespaceNetworks::Reconfigure(*node.network, config, now); !done.ok()) {
    return done;
  }
  tree_.Publish(node, "set", absl::StrCat(name, "=", FormatSetting(setting, config)), now);
  node.attr.ctime = now;
  return absl::OkStatus();
}

NetworkConfig NamespaceAttributes::InheritedConfig(const NamespaceNode& dir) const {
  std::vector<const NamespaceNode*> chain;
  for (const NamespaceNode* node = &dir;; node = tree_.Find(node->parent)) {
    chain.push_back(node);
    if (node->attr.ino == kRootIno) break;
  }
  NetworkConfig config = defaults_;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    for (const auto& [name, value] : (*it)->defaults) {
      // Values were validated when set; a policy removed since then keeps the previous one.
      ApplySetting(name, value, limits_, &config).IgnoreError();
    }
  }
  return config;
}

void NamespaceAttributes::SetLimits(const SettingLimits& limits) {
  limits_ = limits;
  defaults_.mtu = std::min(defaults_.mtu, limits.max_mtu);
}

}  // namespace ipnfs
