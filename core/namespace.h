// Namespace: the tree of directories, networks and symlinks under the mount point, as the FUSE
// adapter sees it. A facade: each call takes the lock and hands over to one part.
//
//   NamespaceTree        the nodes by inode number; lookup, create, remove, rename, setattr,
//                        readdir, access, each checking the caller's permissions itself
//   NamespaceViews       the virtual nodes /.pcap (a read-only mirror) and /.events
//   NamespaceAttributes  the user.ipn.* extended attributes: settings, directory defaults
//   NamespaceInterfaces  the kernel interfaces attached to networks (user.ipn.tap, .grab)
//   NamespaceNetworks    every network made, named or not, for ticking
//   NamespaceState       save after every change, restore at start-up
//
// Lock discipline: one mutex, `mu_`, guards all of the parts above; they are thread-compatible
// and only ever called from here with `mu_` held. Holding it, the namespace may take a network's
// lock, the event bus's lock and call the interface backend; none of them calls back into the
// namespace. Network data paths never take `mu_`, and networks tick outside it. Thread-safe.
#ifndef IPNFS_CORE_NAMESPACE_H_
#define IPNFS_CORE_NAMESPACE_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/event_bus.h"
#include "core/face_backend.h"
#include "core/interface_backend.h"
#include "core/namespace_attributes.h"
#include "core/namespace_interfaces.h"
#include "core/namespace_networks.h"
#include "core/namespace_node.h"
#include "core/namespace_state.h"
#include "core/namespace_tree.h"
#include "core/namespace_views.h"
#include "core/network.h"
#include "core/settings.h"
#include "core/state_codec.h"
#include "core/state_file.h"

namespace ipnfs {

class Namespace {
 public:
  struct Options {
    mode_t root_mode = 01777;  // Like /tmp: anyone creates networks, owners remove their own.
    uid_t root_uid = 0;
    gid_t root_gid = 0;
    NetworkConfig network_defaults;  // Settings of a network no directory default overrides.
    SettingLimits limits;
  };

  // A namespace holding only its root, made at `now`.
  Namespace(const Options& options, absl::Time now);
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;

  // The tree (see NamespaceTree; virtual inodes go to NamespaceViews). Creators make a node owned
  // by the caller, with `mode` (permission bits; the kernel already applied the umask) and one
  // kernel lookup; they need w and x on `parent`, EEXIST if the name is taken.
  absl::StatusOr<Attributes> Lookup(ino_t parent, absl::string_view name,
                                    const OperationContext& context);
  void Forget(ino_t ino, uint64_t count);
  absl::StatusOr<Attributes> GetAttributes(ino_t ino) const;
  absl::StatusOr<Attributes> SetAttributes(ino_t ino, const AttributeChanges& changes,
                                           const OperationContext& context);
  absl::StatusOr<Attributes> MakeDirectory(ino_t parent, absl::string_view name, mode_t mode,
                                           const OperationContext& context);
  // A network with the settings its directories give it (see InheritedConfig).
  absl::StatusOr<Attributes> MakeNetwork(ino_t parent, absl::string_view name, mode_t mode,
                                         const OperationContext& context);
  absl::StatusOr<Attributes> MakeSymlink(ino_t parent, absl::string_view name,
                                         absl::string_view target, const OperationContext& context);
  absl::StatusOr<std::string> ReadLink(ino_t ino) const;
  absl::Status Unlink(ino_t parent, absl::string_view name, const OperationContext& context);
  absl::Status RemoveDirectory(ino_t parent, absl::string_view name,
                               const OperationContext& context);
  absl::Status Rename(ino_t parent, absl::string_view name, ino_t new_parent,
                      absl::string_view new_name, unsigned int flags,
                      const OperationContext& context);
  absl::StatusOr<std::vector<DirectoryEntry>> ReadDirectory(ino_t ino,
                                                            const OperationContext& context) const;
  // access(2): OK when the caller has every bit of `mask` (kMayRead...) on `ino`.
  absl::Status CheckAccess(ino_t ino, int mask, const OperationContext& context) const;
  // Directories, networks and symlinks alive, for statfs.
  size_t node_count() const;

  // Networks. The returned network is shared: it stays usable after its name is removed.
  absl::StatusOr<std::shared_ptr<Network>> OpenNetwork(ino_t ino, int mask,
                                                       const OperationContext& context) const;
  absl::StatusOr<std::shared_ptr<Network>> OpenMonitor(ino_t ino,
                                                       const OperationContext& context) const;
  // Lets every network's time-based state move on (flow-control stalls, policy ageing) and
  // publishes what their policies report. Call it periodically, from any thread.
  void Tick(absl::Time now);

  // Events (see EventBus): a reader of /.events for the caller; and an event about node `ino`
  // (e.g. "join" with "port=7 pid=..."), from the FUSE layer.
  absl::StatusOr<std::unique_ptr<Port>> SubscribeEvents(const OperationContext& context,
                                                        PortOwner owner);
  void PublishEvent(ino_t ino, absl::string_view kind, absl::string_view details, absl::Time now);

  // Extended attributes (see NamespaceAttributes). `now` is when a policy's table is read.
  absl::StatusOr<std::string> GetAttribute(ino_t ino, absl::string_view name, absl::Time now) const;
  absl::StatusOr<std::vector<std::string>> ListAttributes(ino_t ino) const;
  absl::Status SetAttribute(ino_t ino, absl::string_view name, absl::string_view value,
                            const OperationContext& context);
  absl::Status RemoveAttribute(ino_t ino, absl::string_view name, const OperationContext& context);
  // Bounds on setting values known only once mounted (the largest FUSE write).
  void SetLimits(const SettingLimits& limits);
  // Attaches kernel interfaces through `backend`, which must outlive the namespace. Without one,
  // user.ipn.tap and user.ipn.grab are ENOTSUP.
  void SetInterfaceBackend(InterfaceBackend* backend);

  // Gives every network, from now on, its socket faces through `faces`, which must outlive the
  // namespace (networks that exist already are exposed at once).
  void SetFaceBackend(FaceBackend* faces);
  // The face backend binding a socket face made it in face directory `parent` as `name`, from
  // thread `tid` (its MKNOD through the mount): see NamespaceViews::Bind.
  absl::StatusOr<Attributes> BindFace(ino_t parent, absl::string_view name, pid_t tid);
  // The path of network `ino` below the root, "a/b/net" (no leading '/'): where its faces are
  // bound under /.seqpacket and /.stream. ENOENT once it has no name.
  absl::StatusOr<std::string> FacePath(ino_t ino) const;

  // Persistence (see NamespaceState). Set the backend before Restore(). After SetStateSink(),
  // every change is saved to `sink` (which must outlive the namespace) before the call returns.
  absl::Status Restore(const std::vector<StateEntry>& entries, absl::Time now);
  void SetStateSink(StateSink* sink);
  std::vector<StateEntry> Snapshot() const;

 private:
  // Exposes the faces of every network with a name.
  void ExposeAllLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Saves `status`'s change, if it succeeded, and returns it.
  absl::Status Saved(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  EventBus events_;  // Thread-safe: publishers may skip work without `mu_` when nobody reads.
  mutable absl::Mutex mu_;
  NamespaceInterfaces interfaces_ ABSL_GUARDED_BY(mu_);
  NamespaceNetworks networks_ ABSL_GUARDED_BY(mu_);
  NamespaceTree tree_ ABSL_GUARDED_BY(mu_);
  NamespaceViews views_ ABSL_GUARDED_BY(mu_);
  NamespaceAttributes attributes_ ABSL_GUARDED_BY(mu_);
  NamespaceState state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_NAMESPACE_H_
