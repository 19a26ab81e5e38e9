// Namespace: the tree of directories, networks and symlinks under the mount point.
//
// Nodes are addressed by inode number, as the kernel addresses them. A node lives while it has a
// name or while the kernel still holds lookups on it (FUSE's lookup count); a network additionally
// lives while ports are joined to it (they share it). Every operation checks the caller's
// permissions itself, the way a kernel filesystem would. One mutex guards the tree; network data
// paths never take it. Thread-safe.
#ifndef IPNFS_CORE_NAMESPACE_H_
#define IPNFS_CORE_NAMESPACE_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/access.h"
#include "core/event_bus.h"
#include "core/interface_backend.h"
#include "core/network.h"
#include "core/settings.h"
#include "core/state_codec.h"
#include "core/state_file.h"

namespace ipnfs {

struct Attributes {
  ino_t ino = 0;
  mode_t mode = 0;  // Type and permission bits.
  nlink_t nlink = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  off_t size = 0;
  absl::Time atime;
  absl::Time mtime;
  absl::Time ctime;
};

// The caller of one operation and the time it happens.
struct OperationContext {
  Credentials who;
  absl::Time now;
};

// A setattr request: only the fields present change.
struct AttributeChanges {
  std::optional<mode_t> mode;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::optional<off_t> size;
  std::optional<absl::Time> atime;  // Explicit time...
  std::optional<absl::Time> mtime;
  bool atime_now = false;           // ...or "now" (touch), which needs only write access.
  bool mtime_now = false;
};

struct DirectoryEntry {
  std::string name;
  ino_t ino = 0;
  mode_t mode = 0;
};

class Namespace {
 public:
  static constexpr ino_t kRootIno = 1;

  // Virtual nodes, never persisted. "/.pcap" mirrors the tree read-only: directories and
  // networks, where opening a network joins it as a monitor (inode = real inode | kMirrorBit).
  // "/.events" is the event stream. Both names are reserved at the root.
  static constexpr ino_t kMirrorBit = ino_t{1} << 62;
  static constexpr ino_t kEventsIno = kMirrorBit - 1;
  static constexpr absl::string_view kMirrorName = ".pcap";
  static constexpr absl::string_view kEventsName = ".events";
  static bool IsMirror(ino_t ino) { return (ino & kMirrorBit) != 0; }
  static bool IsVirtual(ino_t ino) { return IsMirror(ino) || ino == kEventsIno; }

  struct Options {
    mode_t root_mode = 01777;  // Like /tmp: anyone creates networks, owners remove their own.
    uid_t root_uid = 0;
    gid_t root_gid = 0;
    NetworkConfig network_defaults;  // Settings of a network no directory default overrides.
    SettingLimits limits;
  };

  Namespace(const Options& options, absl::Time now);
  ~Namespace();
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;

  // The child `name` of directory `parent`; counts one kernel lookup on it. Needs x on `parent`.
  absl::StatusOr<Attributes> Lookup(ino_t parent, absl::string_view name,
                                    const OperationContext& context);
  // The kernel dropped `count` lookups of `ino`.
  void Forget(ino_t ino, uint64_t count);

  absl::StatusOr<Attributes> GetAttributes(ino_t ino) const;
  absl::StatusOr<Attributes> SetAttributes(ino_t ino, const AttributeChanges& changes,
                                           const OperationContext& context);

  // Creators: the new node is owned by the caller, has `mode` (permission bits; the kernel already
  // applied the umask) and counts one kernel lookup. Need w and x on `parent`; EEXIST if taken.
  absl::StatusOr<Attributes> MakeDirectory(ino_t parent, absl::string_view name, mode_t mode,
                                           const OperationContext& context);
  absl::StatusOr<Attributes> MakeNetwork(ino_t parent, absl::string_view name, mode_t mode,
                                         const OperationContext& context);
  absl::StatusOr<Attributes> MakeSymlink(ino_t parent, absl::string_view name,
                                         absl::string_view target, const OperationContext& context);

  absl::StatusOr<std::string> ReadLink(ino_t ino) const;

  // Removers: need w and x on `parent`, and the sticky-bit rule. Joined ports keep working.
  absl::Status Unlink(ino_t parent, absl::string_view name, const OperationContext& context);
  absl::Status RemoveDirectory(ino_t parent, absl::string_view name,
                               const OperationContext& context);

  // rename(2) and renameat2(2) with RENAME_NOREPLACE; RENAME_EXCHANGE is EINVAL.
  absl::Status Rename(ino_t parent, absl::string_view name, ino_t new_parent,
                      absl::string_view new_name, unsigned int flags,
                      const OperationContext& context);

  // The entries of directory `ino`, "." and ".." first, as of now. Needs r on it.
  absl::StatusOr<std::vector<DirectoryEntry>> ReadDirectory(ino_t ino,
                                                            const OperationContext& context) const;

  // access(2): OK when the caller has every bit of `mask` (kMayRead...) on `ino`.
  absl::Status CheckAccess(ino_t ino, int mask, const OperationContext& context) const;

  // The network of `ino` for a port opening it with `mask` (kMayRead and/or kMayWrite).
  absl::StatusOr<std::shared_ptr<Network>> OpenNetwork(ino_t ino, int mask,
                                                       const OperationContext& context) const;

  // Bounds on setting values known only once mounted (the largest FUSE write).
  void SetLimits(const SettingLimits& limits);

  // The network that mirror inode `ino` shows, for a monitor. Needs r on the network.
  absl::StatusOr<std::shared_ptr<Network>> OpenMonitor(ino_t ino,
                                                       const OperationContext& context) const;

  // A reader of /.events for the caller (see EventBus).
  absl::StatusOr<std::unique_ptr<Port>> SubscribeEvents(const OperationContext& context,
                                                        PortOwner owner);
  // Publishes an event about node `ino` (e.g. "join" with "port=7 pid=..."), from the FUSE layer.
  void PublishEvent(ino_t ino, absl::string_view kind, absl::string_view details,
                    absl::Time now);

  // Directories and networks, for statfs.
  size_t node_count() const;

  // Extended attributes: user.ipn.NAME. On a network: its settings (read-write), "stats" and
  // "ports" (read-only). On a directory: the settings it gives networks created below it later.
  // Reading needs nothing; changing needs x (manage) on the node. Errors: ENODATA for an unknown
  // name on get/remove, ENOTSUP on set, EPERM to set a read-only one, EINVAL for a bad value.
  absl::StatusOr<std::string> GetAttribute(ino_t ino, absl::string_view name) const;
  absl::StatusOr<std::vector<std::string>> ListAttributes(ino_t ino) const;
  absl::Status SetAttribute(ino_t ino, absl::string_view name, absl::string_view value,
                            const OperationContext& context);
  absl::Status RemoveAttribute(ino_t ino, absl::string_view name,
                               const OperationContext& context);

  // Attaches kernel interfaces through `backend` (user.ipn.tap, user.ipn.grab: comma-separated
  // names; setting the list attaches and detaches to match, all or nothing; removing the
  // attribute detaches all). `backend` must outlive the namespace. Without one: ENOTSUP.
  void SetInterfaceBackend(InterfaceBackend* backend);

  // Lets every network's time-based state move on (flow-control stalls, policy ageing).
  void Tick(absl::Time now);

  // Persistence. Restore() fills a namespace that has only its root from `entries` (as saved),
  // re-attaching saved interfaces (set the backend first; an interface that cannot come back is
  // logged, not an error); InvalidArgument for inconsistent entries. After SetStateSink(), every change is saved to
  // `sink` (which must outlive the namespace) before the operation returns.
  absl::Status Restore(const std::vector<StateEntry>& entries, absl::Time now);
  void SetStateSink(StateSink* sink);
  std::vector<StateEntry> Snapshot() const;

 private:
  struct Node;

  Node* Find(ino_t ino) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<Node*> FindDirectory(ino_t ino) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<Node*> ChildOf(const Node& dir, absl::string_view name) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Checks that a new entry `name` may be added to `parent`.
  absl::StatusOr<Node*> PrepareCreate(ino_t parent, absl::string_view name,
                                      const OperationContext& context)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Node& AddNode(Node& parent, absl::string_view name, mode_t mode,
                const OperationContext& context) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckRemove(const Node& dir, const Node& victim, const OperationContext& context)
      const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Unlink (`directory` false) or RemoveDirectory (true).
  absl::Status RemoveEntry(ino_t parent, absl::string_view name, bool directory,
                           const OperationContext& context);
  // EROFS in a virtual directory, EPERM for a reserved name at the root.
  absl::Status CheckMutableLocked(ino_t parent, absl::string_view name) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops one name of `node`; frees it once it has no name and no kernel lookups.
  void DropName(Node& node, absl::Time now, const std::string& path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeFree(Node& node) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Attributes AttributesOf(const Node& node) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool IsAncestor(ino_t ancestor, ino_t ino) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Virtual nodes (namespace_views.cc).
  absl::StatusOr<Attributes> VirtualAttributesLocked(ino_t ino) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<Attributes> LookupVirtualLocked(ino_t parent, absl::string_view name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<DirectoryEntry>> ReadMirrorLocked(ino_t ino,
                                                               const OperationContext& context)
      const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Publishes an event about `node` at `path` (its current path when empty).
  void PublishLocked(const Node& node, absl::string_view kind, absl::string_view details,
                     absl::Time now, absl::string_view path = "") ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The settings a network created in `dir` starts with: the options' defaults, then each
  // directory's defaults from the root down to `dir`.
  NetworkConfig InheritedConfig(const Node& dir) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::shared_ptr<Network>> CreateNetwork(const NetworkConfig& config)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Gives `network` the settings `config`, switching its policy if that changed.
  static absl::Status Reconfigure(Network& network, const NetworkConfig& config, absl::Time now);
  std::string PathOf(const Node& node) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SnapshotLocked(const Node& node, std::vector<StateEntry>* entries) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The node `ino` and the attribute `name` without its prefix, for a change; `unknown_errno` for
  // a name ipnfs does not know (ENOTSUP to set, ENODATA to remove), EACCES without x.
  absl::StatusOr<std::pair<Node*, absl::string_view>> AttributeToChangeLocked(
      ino_t ino, absl::string_view name, int unknown_errno, const OperationContext& context)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Attaches and detaches interfaces of `kind` so that exactly `wanted` are attached to `node`.
  absl::Status SetInterfacesLocked(InterfaceKind kind, const std::vector<std::string>& wanted,
                                   Node& node, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Attaches the saved `interfaces` of network `node` again; failures are logged.
  void ReattachLocked(const std::string& path, Node& node,
                      const std::vector<std::pair<InterfaceKind, std::string>>& interfaces)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // "a, b,a" -> {"a", "b"}.
  static std::vector<std::string> SplitInterfaceNames(absl::string_view value);
  // Saves the state after a change, if a sink is set; a failure is logged, not returned.
  void PersistLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  Options options_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<ino_t, std::unique_ptr<Node>> nodes_ ABSL_GUARDED_BY(mu_);
  ino_t next_ino_ ABSL_GUARDED_BY(mu_) = kRootIno + 1;
  std::vector<std::weak_ptr<Network>> networks_ ABSL_GUARDED_BY(mu_);  // Also unlinked ones.
  StateSink* sink_ ABSL_GUARDED_BY(mu_) = nullptr;
  InterfaceBackend* backend_ ABSL_GUARDED_BY(mu_) = nullptr;
  uint64_t seen_losses_ ABSL_GUARDED_BY(mu_) = 0;  // backend_->Losses() when last saved.
  EventBus events_;
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_NAMESPACE_H_
