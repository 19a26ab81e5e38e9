// NamespaceViews: the virtual nodes at the root. /.pcap mirrors the tree read-only (directories
// and networks; opening a network there joins it as a monitor) and /.events is the event stream.
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
#include "core/namespace_node.h"
#include "core/namespace_tree.h"
#include "core/network.h"

namespace ipnfs {

class NamespaceViews {
 public:
  explicit NamespaceViews(NamespaceTree& tree) : tree_(tree) {}
  NamespaceViews(const NamespaceViews&) = delete;
  NamespaceViews& operator=(const NamespaceViews&) = delete;

  // The attributes of virtual inode `ino`: /.events is root's, read-only for all; a mirror entry
  // is its real node's without write bits. ENOENT for a mirror of nothing (or of a symlink).
  absl::StatusOr<Attributes> GetAttributes(ino_t ino) const;

  // `name` in virtual directory `parent`, or a reserved name at the root. A mirror entry counts a
  // kernel lookup on its real node (Forget of the mirror inode drops it).
  absl::StatusOr<Attributes> Lookup(ino_t parent, absl::string_view name);

  // The entries of mirror directory `ino`: its real directory's directories and networks. Needs r
  // on the real directory.
  absl::StatusOr<std::vector<DirectoryEntry>> ReadDirectory(ino_t ino,
                                                            const OperationContext& context) const;

  // access(2) on virtual inode `ino`.
  absl::Status CheckAccess(ino_t ino, int mask, const OperationContext& context) const;

  // The network that mirror inode `ino` shows, for a monitor. Needs r on the network.
  absl::StatusOr<std::shared_ptr<Network>> OpenMonitor(ino_t ino,
                                                       const OperationContext& context) const;

 private:
  NamespaceTree& tree_;
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_NAMESPACE_VIEWS_H_
