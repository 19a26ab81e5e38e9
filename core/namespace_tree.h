// NamespaceTree: the directories, networks and symlinks of the namespace by inode number, and the
// operations on them as a kernel filesystem would check them (lookup, create, remove, rename,
// setattr, readdir, access).
//
// Owns every node. A node lives while it has a name or while the kernel still holds lookups on it
// (FUSE's lookup count). Knows the virtual nodes only as names reserved at the root. Publishes
// "create", "remove", "rename" and "set" events to `events`; a network that loses its name lets
// its interfaces go through `interfaces`; both must outlive the tree. Thread-compatible: the
// Namespace calls every method with its lock held, and pointers to nodes are valid only while it
// holds it.
#ifndef IPNFS_CORE_NAMESPACE_TREE_H_
#define IPNFS_CORE_NAMESPACE_TREE_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/event_bus.h"
#include "core/namespace_interfaces.h"
#include "core/namespace_node.h"
#include "core/namespace_permissions.h"
#include "core/network.h"

namespace ipnfs {

class NamespaceTree {
 public:
  // What unlink and rmdir remove.
  enum class EntryType { kNonDirectory, kDirectory };
  // Whether an operation that succeeded changed anything (and so must be saved).
  enum class Outcome { kUnchanged, kChanged };

  // A tree holding only the root, with `root` as its attributes (ino kRootIno).
  NamespaceTree(const Attributes& root, EventBus& events, NamespaceInterfaces& interfaces);
  NamespaceTree(const NamespaceTree&) = delete;
  NamespaceTree& operator=(const NamespaceTree&) = delete;

  // ---- Finding nodes (null or ENOENT for an inode that is gone) ----
  NamespaceNode* Find(ino_t ino) const;
  absl::StatusOr<NamespaceNode*> FindNode(ino_t ino) const;
  // ENOTDIR when `ino` is not a directory.
  absl::StatusOr<NamespaceNode*> FindDirectory(ino_t ino) const;
  absl::StatusOr<NamespaceNode*> ChildOf(const NamespaceNode& dir, absl::string_view name) const;
  NamespaceNode& root() const { return *Find(kRootIno); }
  // "/a/b" for a node with a name, "/" for the root.
  std::string PathOf(const NamespaceNode& node) const;
  // What stat shows: a network's mtime moves with its last packet.
  static Attributes AttributesOf(const NamespaceNode& node);
  // Nodes alive, named or only held by the kernel; and each of them in turn.
  size_t size() const { return nodes_.size(); }
  void ForEach(absl::FunctionRef<void(const NamespaceNode&)> visit) const;

  // ---- The kernel's view ----
  // The child `name` of directory `parent`; counts one kernel lookup on it. Needs x on `parent`.
  absl::StatusOr<Attributes> Lookup(ino_t parent, absl::string_view name,
                                    const OperationContext& context);
  // The kernel dropped `count` lookups of `ino` (a mirror inode pinned its real node).
  void Forget(ino_t ino, uint64_t count);
  absl::StatusOr<Attributes> GetAttributes(ino_t ino) const;
  // Changes all of `changes` or, when any is refused, nothing.
  absl::StatusOr<Attributes> SetAttributes(ino_t ino, const AttributeChanges& changes,
                                           const OperationContext& context);
  absl::StatusOr<std::string> ReadLink(ino_t ino) const;
  // The entries of directory `ino`, "." and ".." first (then the virtual ones at the root). Needs
  // r on it.
  absl::StatusOr<std::vector<DirectoryEntry>> ReadDirectory(ino_t ino,
                                                            const OperationContext& context) const;
  absl::Status CheckAccess(ino_t ino, int mask, const OperationContext& context) const;
  // The network of `ino` for a port opening it with `mask` (kMayRead and/or kMayWrite).
  absl::StatusOr<std::shared_ptr<Network>> OpenNetwork(ino_t ino, int mask,
                                                       const OperationContext& context) const;

  // ---- Changes ----
  // The directory a new entry `name` goes into, once the caller may add it there (w and x on
  // `parent`); EEXIST when taken or reserved, EROFS in a virtual directory.
  absl::StatusOr<NamespaceNode*> PrepareCreate(ino_t parent, absl::string_view name,
                                               const OperationContext& context) const;
  // Adds node `name` to `dir` (from PrepareCreate), owned by the caller, with `mode` (type and
  // permission bits) and one kernel lookup. The tree owns it; the reference stays valid while the
  // lock is held.
  NamespaceNode& Add(NamespaceNode& dir, absl::string_view name, mode_t mode,
                     const OperationContext& context);
  // unlink(2) and rmdir(2): w and x on `parent`, and the sticky-bit rule. Joined ports keep
  // working.
  absl::Status Remove(ino_t parent, absl::string_view name, EntryType type,
                      const OperationContext& context);
  // rename(2) and renameat2(2) with RENAME_NOREPLACE; RENAME_EXCHANGE is EINVAL. kUnchanged when
  // both names already were the same node.
  absl::StatusOr<Outcome> Rename(ino_t parent, absl::string_view name, ino_t new_parent,
                                 absl::string_view new_name, unsigned int flags,
                                 const OperationContext& context);

  // Publishes an event about `node` at `path` (its current path when empty) to the readers of
  // /.events that may read it.
  void Publish(const NamespaceNode& node, absl::string_view kind, absl::string_view details,
               absl::Time now, absl::string_view path = "") const;

 private:
  struct RenamePlan;

  // EROFS in a virtual directory, EPERM for a name reserved at the root.
  static absl::Status CheckMutable(ino_t parent, absl::string_view name);
  // EROFS in a virtual directory, EEXIST for a name reserved at the root.
  static absl::Status CheckFree(ino_t parent, absl::string_view name);
  // Finds the nodes of a rename and checks that the caller may do it.
  absl::StatusOr<RenamePlan> PlanRename(ino_t parent, absl::string_view name, ino_t new_parent,
                                        absl::string_view new_name, unsigned int flags,
                                        const OperationContext& context) const;
  void ApplyRename(const RenamePlan& plan, absl::string_view name, absl::string_view new_name,
                   absl::Time now);
  // Takes entry `name` (node `victim`) out of `dir`, then drops that name of `victim`.
  void Unname(NamespaceNode& dir, absl::string_view name, NamespaceNode& victim, absl::Time now);
  void MaybeFree(NamespaceNode& node);
  bool IsAncestor(ino_t ancestor, ino_t ino) const;

  EventBus& events_;
  NamespaceInterfaces& interfaces_;
  absl::flat_hash_map<ino_t, std::unique_ptr<NamespaceNode>> nodes_;
  ino_t next_ino_ = kRootIno + 1;
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_NAMESPACE_TREE_H_
