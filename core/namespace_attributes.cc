// Namespace: extended attributes (settings, directory defaults, introspection) and ticks.
#include <algorithm>
#include <cerrno>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "core/errno_status.h"
#include "core/introspection.h"
#include "core/namespace.h"
#include "core/namespace_node.h"
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

// Interfaces attached to a network: comma-separated names, read-write.
std::optional<InterfaceKind> InterfaceKindOf(absl::string_view name) {
  if (name == "tap") return InterfaceKind::kTap;
  if (name == "grab") return InterfaceKind::kGrab;
  return std::nullopt;
}

std::string PoliciesText() {
  std::string text;
  for (const PolicyInfo& info : Policies()) {
    absl::StrAppend(&text, info.name, " ", info.description, "\n");
  }
  return text;
}

// Managing (changing settings) needs x; root may always.
absl::Status CheckManage(const Attributes& attr, const OperationContext& context) {
  if (context.who.IsRoot() || MayAccess(attr.mode, attr.uid, attr.gid, context.who, kMayExecute)) {
    return absl::OkStatus();
  }
  return ErrnoError(EACCES, "managing a network needs x permission");
}

}  // namespace

absl::StatusOr<std::string> Namespace::GetAttribute(ino_t ino, absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  if (IsVirtual(ino)) return ErrnoError(ENODATA, absl::StrCat("no attribute ", name));
  Node* node = Find(ino);
  if (node == nullptr) return ErrnoError(ENOENT, absl::StrCat("no inode ", ino));
  absl::string_view setting = name;
  if (!absl::ConsumePrefix(&setting, kAttributePrefix)) {
    return ErrnoError(ENODATA, absl::StrCat("no attribute ", name));
  }
  if (node->network) {
    if (IsSettingName(setting)) return FormatSetting(setting, node->network->config());
    if (setting == "stats") return FormatStats(node->network->stats());
    if (setting == "ports") return FormatPorts(node->network->ports());
    if (auto kind = InterfaceKindOf(setting); kind && backend_ != nullptr) {
      std::vector<std::string> names = backend_->Attached(*kind, *node->network);
      if (!names.empty()) return absl::StrJoin(names, ",");
    }
    absl::StatusOr<std::string> text = node->network->ReadPolicyAttribute(setting, absl::Now());
    if (text.ok()) return text;
  } else if (node->is_directory()) {
    if (ino == kRootIno && setting == kPoliciesName) return PoliciesText();
    auto it = node->defaults.find(std::string(setting));
    if (it != node->defaults.end()) return it->second;
  }
  return ErrnoError(ENODATA, absl::StrCat("no attribute ", name));
}

absl::StatusOr<std::vector<std::string>> Namespace::ListAttributes(ino_t ino) const {
  absl::MutexLock lock(&mu_);
  if (IsVirtual(ino)) return std::vector<std::string>();
  Node* node = Find(ino);
  if (node == nullptr) return ErrnoError(ENOENT, absl::StrCat("no inode ", ino));
  std::vector<std::string> names;
  if (node->network) {
    for (absl::string_view setting : SettingNames()) {
      names.push_back(absl::StrCat(kAttributePrefix, setting));
    }
    for (absl::string_view read_only : kReadOnly) {
      names.push_back(absl::StrCat(kAttributePrefix, read_only));
    }
    for (const std::string& name : node->network->policy_attributes()) {
      names.push_back(absl::StrCat(kAttributePrefix, name));
    }
    for (absl::string_view kind : {"tap", "grab"}) {
      if (backend_ != nullptr && !backend_->Attached(*InterfaceKindOf(kind), *node->network)
                                      .empty()) {
        names.push_back(absl::StrCat(kAttributePrefix, kind));
      }
    }
  } else {
    if (ino == kRootIno) names.push_back(absl::StrCat(kAttributePrefix, kPoliciesName));
    for (const auto& [setting, value] : node->defaults) {
      names.push_back(absl::StrCat(kAttributePrefix, setting));
    }
  }
  return names;
}

absl::StatusOr<std::pair<Namespace::Node*, absl::string_view>>
Namespace::AttributeToChangeLocked(ino_t ino, absl::string_view name, int unknown_errno,
                                   const OperationContext& context) {
  if (IsVirtual(ino)) return ErrnoError(EROFS, "read-only view");
  Node* node = Find(ino);
  if (node == nullptr) return ErrnoError(ENOENT, absl::StrCat("no inode ", ino));
  absl::string_view setting = name;
  if (!absl::ConsumePrefix(&setting, kAttributePrefix) ||
      (!IsSettingName(setting) && !IsReadOnlyName(setting) && !InterfaceKindOf(setting)) ||
      (!node->network && !node->is_directory())) {
    return ErrnoError(unknown_errno, absl::StrCat("no such attribute here: ", name));
  }
  if (absl::Status allowed = CheckManage(node->attr, context); !allowed.ok()) return allowed;
  return std::make_pair(node, setting);
}

absl::Status Namespace::SetAttribute(ino_t ino, absl::string_view name, absl::string_view value,
                                     const OperationContext& context) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::pair<Node*, absl::string_view>> target =
      AttributeToChangeLocked(ino, name, ENOTSUP, context);
  if (!target.ok()) return target.status();
  auto [node, setting] = *target;
  if (auto kind = InterfaceKindOf(setting)) {
    if (!node->network) return ErrnoError(EPERM, "interfaces attach to networks");
    absl::Status attached =
        SetInterfacesLocked(*kind, SplitInterfaceNames(value), *node, context.now);
    if (!attached.ok()) return attached;
    node->attr.ctime = context.now;
    PersistLocked();
    return absl::OkStatus();
  }
  if (IsReadOnlyName(setting) || (node->is_directory() && !IsSettingName(setting))) {
    return ErrnoError(EPERM, absl::StrCat(name, " is read-only"));
  }
  NetworkConfig scratch = options_.network_defaults;
  if (node->network) scratch = node->network->config();
  if (absl::Status valid = ApplySetting(setting, value, options_.limits, &scratch); !valid.ok()) {
    return valid;
  }
  const std::string old_policy = node->network ? node->network->config().policy : "";
  if (node->network) {
    if (absl::Status done = Reconfigure(*node->network, scratch, context.now); !done.ok()) {
      return done;
    }
  } else {
    node->defaults[std::string(setting)] = FormatSetting(setting, scratch);
  }
  node->attr.ctime = context.now;
  PersistLocked();
  if (node->network && setting == "policy") {
    PublishLocked(*node, "policy", absl::StrCat("old=", old_policy, " new=", scratch.policy),
                  context.now);
  } else {
    PublishLocked(*node, "set", absl::StrCat(name, "=", FormatSetting(setting, scratch)),
                  context.now);
  }
  return absl::OkStatus();
}

absl::Status Namespace::RemoveAttribute(ino_t ino, absl::string_view name,
                                        const OperationContext& context) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::pair<Node*, absl::string_view>> target =
      AttributeToChangeLocked(ino, name, ENODATA, context);
  if (!target.ok()) return target.status();
  auto [node, setting] = *target;
  if (IsReadOnlyName(setting)) return ErrnoError(EPERM, absl::StrCat(name, " is read-only"));
  if (auto kind = InterfaceKindOf(setting)) {
    if (!node->network) return ErrnoError(ENODATA, absl::StrCat("no attribute ", name));
    absl::Status detached = SetInterfacesLocked(*kind, {}, *node, context.now);
    if (!detached.ok()) return detached;
    node->attr.ctime = context.now;
    PersistLocked();
    return absl::OkStatus();
  }
  if (node->network) {
    // Back to what the network would inherit if it were created now.
    const Node* parent = Find(node->parent);
    const NetworkConfig inherited =
        parent != nullptr ? InheritedConfig(*parent) : options_.network_defaults;
    NetworkConfig config = node->network->config();
    if (absl::Status reset = ApplySetting(setting, FormatSetting(setting, inherited),
                                          options_.limits, &config);
        !reset.ok()) {
      return reset;
    }
    if (absl::Status done = Reconfigure(*node->network, config, context.now); !done.ok()) {
      return done;
    }
    PublishLocked(*node, "set", absl::StrCat(name, "=", FormatSetting(setting, config)),
                  context.now);
  } else if (node->defaults.erase(std::string(setting)) == 0) {
    return ErrnoError(ENODATA, absl::StrCat("no attribute ", name));
  } else {
    PublishLocked(*node, "set", absl::StrCat(name, "="), context.now);
  }
  node->attr.ctime = context.now;
  PersistLocked();
  return absl::OkStatus();
}

absl::Status Namespace::Reconfigure(Network& network, const NetworkConfig& config,
                                    absl::Time now) {
  if (config.policy != network.config().policy) {
    absl::StatusOr<std::unique_ptr<Policy>> policy = CreatePolicy(config.policy);
    if (!policy.ok()) return policy.status();
    network.SetPolicy(*std::move(policy));
  }
  network.SetConfig(config, now);
  return absl::OkStatus();
}

std::vector<std::string> Namespace::SplitInterfaceNames(absl::string_view value) {
  std::vector<std::string> names;
  for (absl::string_view name : absl::StrSplit(value, ',')) {
    name = absl::StripAsciiWhitespace(name);
    if (!name.empty()) names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

absl::Status Namespace::SetInterfacesLocked(InterfaceKind kind,
                                            const std::vector<std::string>& wanted, Node& node,
                                            absl::Time now) {
  const char* event = kind == InterfaceKind::kTap ? "tap" : "grab";
  if (backend_ == nullptr) {
    return ErrnoError(ENOTSUP, "this daemon has no interface backend");
  }
  const std::vector<std::string> attached = backend_->Attached(kind, *node.network);
  std::vector<std::string> added;
  for (const std::string& name : wanted) {
    if (std::binary_search(attached.begin(), attached.end(), name)) continue;
    absl::Status status = backend_->Attach(kind, name, node.network);
    if (!status.ok()) {
      // Change nothing: undo what this call attached.
      for (const std::string& undo : added) backend_->Detach(kind, undo, *node.network).IgnoreError();
      return status;
    }
    added.push_back(name);
  }
  for (const std::string& name : attached) {
    if (!std::binary_search(wanted.begin(), wanted.end(), name)) {
      backend_->Detach(kind, name, *node.network).IgnoreError();
      PublishLocked(node, event, absl::StrCat("detach=", name), now);
    }
  }
  for (const std::string& name : added) {
    PublishLocked(node, event, absl::StrCat("attach=", name), now);
  }
  return absl::OkStatus();
}

void Namespace::SetInterfaceBackend(InterfaceBackend* backend) {
  absl::MutexLock lock(&mu_);
  backend_ = backend;
}

void Namespace::SetLimits(const SettingLimits& limits) {
  absl::MutexLock lock(&mu_);
  options_.limits = limits;
  options_.network_defaults.mtu = std::min(options_.network_defaults.mtu, limits.max_mtu);
}

void Namespace::Tick(absl::Time now) {
  std::vector<std::shared_ptr<Network>> networks;
  {
    absl::MutexLock lock(&mu_);
    // An interface deleted behind the daemon's back leaves the state file at once.
    if (backend_ != nullptr && backend_->Losses() != seen_losses_) {
      seen_losses_ = backend_->Losses();
      PersistLocked();
    }
    for (const std::weak_ptr<Network>& weak : networks_) {
      if (std::shared_ptr<Network> network = weak.lock()) networks.push_back(std::move(network));
    }
  }
  absl::flat_hash_map<const Network*, std::vector<PolicyEvent>> events;
  for (const auto& network : networks) {
    network->Tick(now);
    std::vector<PolicyEvent> taken = network->TakeEvents();
    if (!taken.empty()) events.emplace(network.get(), std::move(taken));
  }
  if (events.empty() || !events_.HasReaders()) return;
  absl::MutexLock lock(&mu_);
  for (const auto& [ino, node] : nodes_) {
    if (!node->network) continue;
    auto it = events.find(node->network.get());
    if (it == events.end()) continue;
    for (const PolicyEvent& event : it->second) PublishLocked(*node, event.kind, event.details, now);
  }
}

}  // namespace ipnfs
