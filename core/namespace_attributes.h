// NamespaceAttributes: the extended attributes user.ipn.NAME of the namespace's nodes, and the
// settings a new network starts with.
//
// On a network: its settings (read-write, see core/settings.h), "stats" and "ports" (read-only),
// its policy's own (e.g. "mactable", read-only) and its interfaces "tap" and "grab". On a
// directory: the settings it gives networks created below it later (its defaults). On the root,
// also "policies" (read-only). Reading needs nothing; changing needs x (manage) on the node.
//
// Owns the namespace-wide defaults and limits; borrows the tree and the interfaces, which outlive
// it. Thread-compatible: the Namespace calls every method with its lock held.
#ifndef IPNFS_CORE_NAMESPACE_ATTRIBUTES_H_
#define IPNFS_CORE_NAMESPACE_ATTRIBUTES_H_

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/namespace_interfaces.h"
#include "core/namespace_node.h"
#include "core/namespace_tree.h"
#include "core/network_config.h"
#include "core/settings.h"

namespace ipnfs {

class NamespaceAttributes {
 public:
  // `defaults`: the settings of a network that no directory default overrides.
  NamespaceAttributes(NamespaceTree& tree, NamespaceInterfaces& interfaces,
                      const NetworkConfig& defaults, const SettingLimits& limits);
  NamespaceAttributes(const NamespaceAttributes&) = delete;
  NamespaceAttributes& operator=(const NamespaceAttributes&) = delete;

  // The value of attribute `name` (with its prefix) of `ino`; `now` ages what a policy shows.
  // ENODATA for a name the node does not have, ENOENT for a node that is gone.
  absl::StatusOr<std::string> Get(ino_t ino, absl::string_view name, absl::Time now) const;
  // The names (with their prefix) `ino` has now.
  absl::StatusOr<std::vector<std::string>> List(ino_t ino) const;

  // Sets attribute `name` of `ino` to `value`; a tap or grab list attaches and detaches
  // interfaces to match, all or nothing. ENOTSUP for an unknown name, EPERM for a read-only one,
  // EINVAL for a bad value, EACCES without x; an error changes nothing.
  absl::Status Set(ino_t ino, absl::string_view name, absl::string_view value,
                   const OperationContext& context);
  // Removes attribute `name`: a network's setting returns to what it would inherit now, a
  // directory forgets its default, a tap or grab list detaches all. ENODATA for a name the node
  // does not have, EPERM for a read-only one, EACCES without x.
  absl::Status Remove(ino_t ino, absl::string_view name, const OperationContext& context);

  // The settings a network created in `dir` starts with: the defaults, then each directory's
  // defaults from the root down to `dir`.
  NetworkConfig InheritedConfig(const NamespaceNode& dir) const;

  const NetworkConfig& defaults() const { return defaults_; }
  const SettingLimits& limits() const { return limits_; }
  // Bounds known only once mounted (the largest FUSE write); the default mtu shrinks to fit.
  void SetLimits(const SettingLimits& limits);

 private:
  // A network's attribute `setting` (without prefix), or ENODATA.
  absl::StatusOr<std::string> GetOfNetwork(const NamespaceNode& node, absl::string_view setting,
                                           absl::Time now) const;
  // The node `ino` and the attribute `name` without its prefix, for a change; `unknown_errno` for
  // a name ipnfs does not know (ENOTSUP to set, ENODATA to remove), EACCES without x.
  absl::StatusOr<std::pair<NamespaceNode*, absl::string_view>> ToChange(
      ino_t ino, absl::string_view name, int unknown_errno, const OperationContext& context) const;
  // Attaches and detaches interfaces of `kind` so that exactly `wanted` are attached to network
  // `node`, publishing what changed.
  absl::Status SetInterfaces(NamespaceNode& node, InterfaceKind kind,
                             const std::vector<std::string>& wanted, absl::Time now);
  // Sets `setting` (attribute `name`) of a network or a directory's default to `value`.
  absl::Status SetSetting(NamespaceNode& node, absl::string_view name, absl::string_view setting,
                          absl::string_view value, absl::Time now);
  // Removes `setting` (attribute `name`) as Remove() says.
  absl::Status ResetSetting(NamespaceNode& node, absl::string_view name, absl::string_view setting,
                            absl::Time now);

  NamespaceTree& tree_;
  NamespaceInterfaces& interfaces_;
  NetworkConfig defaults_;
  SettingLimits limits_;
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_NAMESPACE_ATTRIBUTES_H_
