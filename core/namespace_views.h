// NamespaceViews: the virtual nodes at the root. Three read-only mirrors of the tree (see
// namespace_node.h): /.pcap shows networks as files (opening one joins it as a monitor);
// /.seqpacket and /.stream show each network's socket face, once the FaceBackend has bound it
// through the mount (Bind). /.events is the event stream.
//
// Borrows the tree, which outlives it. Thread-compatible: the Namespace calls every method with
// its lock held.
#ifndef IPNFS_CORE_NAMESPACE_VIEWS_H_
#define IPNFS_CORE_NAMESPACE_VIEWS_H_

#include <sys/types.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/face_backend.h"
#include "core/namespace_node.h"
#include "core/namespace_tree.h"
#include "core/network.h"

namespace ipnfs {

class NamespaceViews {
 public:
  explicit NamespaceViews(NamespaceTree& tree) : tree_(tree) {}
  NamespaceViews(const NamespaceViews&) = delete;
  NamespaceViews& operator=(const NamespaceViews&) = delete;

  // The attributes of virtual inode `ino`: /.events is root's, read-only for all; a mirror
  // directory is its real directory's without write bits; a network in /.pcap is its file without
  // write bits; a bound socket face is a socket with the network's owner, group and mode. ENOENT
  // for a mirror of nothing (a symlink, or a face not bound).
  absl::StatusOr<Attributes> GetAttributes(ino_t ino) const;

  // `name` in virtual directory `parent`, or a reserved name at the root. A mirror entry counts a
  // kernel lookup on its real node (Forget of the mirror inode drops it).
  absl::StatusOr<Attributes> Lookup(ino_t parent, absl::string_view name);

  // The entries of mirror directory `ino`: what its real directory holds that the mirror shows.
  // Needs r on the real directory.
  absl::StatusOr<std::vector<DirectoryEntry>> ReadDirectory(ino_t ino,
                                                            const OperationContext& context) const;

  // access(2) on virtual inode `ino`.
  absl::Status CheckAccess(ino_t ino, int mask, const OperationContext& context) const;

  // The network that /.pcap inode `ino` shows, for a monitor. Needs r on the network.
  absl::StatusOr<std::shared_ptr<Network>> OpenMonitor(ino_t ino,
                                                       const OperationContext& context) const;

  // The socket face of network `name` in face directory `parent` was bound by the FaceBackend
  // (its MKNOD through the mount): shows it from now on and counts a kernel lookup on it. EEXIST
  // when already bound, EROFS unless `binding` (the backend's own request for that network).
  absl::StatusOr<Attributes> Bind(ino_t parent, absl::string_view name, const FaceBackend* backend,
                                  pid_t tid);

 private:
  // True when mirror `view` shows real node `node`.
  static bool Shows(View view, const NamespaceNode& node);

  NamespaceTree& tree_;
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_NAMESPACE_VIEWS_H_
