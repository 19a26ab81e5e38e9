// NamespaceState: the namespace as StateEntry values (see core/state_codec.h), saved after every
// change and restored at start-up.
//
// Borrows the parts of the namespace it reads and fills (tree, attributes, networks, interfaces),
// which outlive it, and the sink, which must outlive the namespace. Thread-compatible: the
// Namespace calls every method with its lock held.
#ifndef IPNFS_CORE_NAMESPACE_STATE_H_
#define IPNFS_CORE_NAMESPACE_STATE_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/namespace_attributes.h"
#include "core/namespace_interfaces.h"
#include "core/namespace_networks.h"
#include "core/namespace_node.h"
#include "core/namespace_tree.h"
#include "core/state_codec.h"
#include "core/state_file.h"

namespace ipnfs {

class NamespaceState {
 public:
  NamespaceState(NamespaceTree& tree, const NamespaceAttributes& attributes,
                 NamespaceNetworks& networks, NamespaceInterfaces& interfaces)
      : tree_(tree), attributes_(attributes), networks_(networks), interfaces_(interfaces) {}
  NamespaceState(const NamespaceState&) = delete;
  NamespaceState& operator=(const NamespaceState&) = delete;

  // Where Save() writes; null (the start) saves nothing.
  void set_sink(StateSink* sink) { sink_ = sink; }

  // Every node, parents before their children.
  std::vector<StateEntry> Snapshot() const;

  // Writes Snapshot() to the sink, if any. A failure is logged, not returned: the change it
  // records has happened.
  void Save() const;

  // Fills a tree that has only its root from `entries` (as Snapshot() made them), re-attaching
  // saved interfaces (an interface that cannot come back is logged, not an error). The restored
  // nodes have no kernel lookups. FailedPrecondition when the tree is not empty, InvalidArgument
  // naming the entry for inconsistent entries.
  absl::Status Restore(const std::vector<StateEntry>& entries, absl::Time now);

 private:
  void SnapshotOf(const NamespaceNode& node, std::vector<StateEntry>* entries) const;
  // Restores one entry; errors say why, without naming it.
  absl::StatusOr<NamespaceNode*> RestoreEntry(const StateEntry& entry, absl::Time now);
  // The root for "/", else a new node in the entry's directory, restored before.
  absl::StatusOr<NamespaceNode*> PlaceEntry(const StateEntry& entry, absl::Time now);
  // The settings of `entry`: a directory's defaults, or a network (made now) and its interfaces.
  absl::Status RestoreSettings(const StateEntry& entry, NamespaceNode& node);

  NamespaceTree& tree_;
  const NamespaceAttributes& attributes_;
  NamespaceNetworks& networks_;
  NamespaceInterfaces& interfaces_;
  StateSink* sink_ = nullptr;
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_NAMESPACE_STATE_H_
