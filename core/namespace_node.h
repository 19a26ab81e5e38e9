// The vocabulary of the namespace: inode numbers, a node's attributes, the caller of an operation,
// a setattr request, a directory entry, and NamespaceNode, one directory, network or symlink.
//
// Plain values. A NamespaceNode is owned by its NamespaceTree and, like every part of the
// namespace, read and changed only with the Namespace's lock held.
#ifndef IPNFS_CORE_NAMESPACE_NODE_H_
#define IPNFS_CORE_NAMESPACE_NODE_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/access.h"
#include "core/network.h"

namespace ipnfs {

// Real nodes are numbered from the root up. Virtual nodes are never persisted: "/.pcap" mirrors
// the tree read-only (directories and networks, where opening a network joins it as a monitor;
// inode = real inode | kMirrorBit) and "/.events" is the event stream. Both names are reserved at
// the root.
inline constexpr ino_t kRootIno = 1;
inline constexpr ino_t kMirrorBit = ino_t{1} << 62;
inline constexpr ino_t kEventsIno = kMirrorBit - 1;
inline constexpr absl::string_view kMirrorName = ".pcap";
inline constexpr absl::string_view kEventsName = ".events";
inline bool IsMirror(ino_t ino) { return (ino & kMirrorBit) != 0; }
inline bool IsVirtual(ino_t ino) { return IsMirror(ino) || ino == kEventsIno; }
// True for the virtual names at the root.
inline bool IsReservedName(ino_t parent, absl::string_view name) {
  return parent == kRootIno && (name == kMirrorName || name == kEventsName);
}

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
  bool atime_now = false;  // ...or "now" (touch), which needs only write access.
  bool mtime_now = false;
};

struct DirectoryEntry {
  std::string name;
  ino_t ino = 0;
  mode_t mode = 0;
};

// One node of the tree. It lives while it has a name (nlink > 0) or the kernel holds lookups.
struct NamespaceNode {
  Attributes attr;
  ino_t parent = 0;                                    // The directory holding its name.
  std::map<std::string, ino_t, std::less<>> children;  // Directories.
  std::map<std::string, std::string> defaults;         // Directories: setting -> value.
  std::string target;                                  // Symlinks.
  std::shared_ptr<Network> network;                    // Networks.
  uint64_t lookups = 0;                                // Held by the kernel.

  bool is_directory() const { return S_ISDIR(attr.mode); }
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_NAMESPACE_NODE_H_
