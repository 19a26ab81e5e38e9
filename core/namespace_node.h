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
#include "core/face_backend.h"
#include "core/network.h"

namespace ipnfs {

// Real nodes are numbered from the root up. Virtual nodes are never persisted. Three read-only
// mirrors of the tree sit at the root, each showing its directories and, for every network, one
// entry: "/.pcap" a file (opening it joins the network as a monitor), "/.seqpacket" and "/.stream"
// the network's socket faces (see core/face_backend.h), shown once bound. A mirror inode is the
// real inode with kMirrorBit and its view in the view bits. "/.events" is the event stream. All
// four names are reserved at the root.
inline constexpr ino_t kRootIno = 1;
inline constexpr ino_t kMirrorBit = ino_t{1} << 62;
inline constexpr int kViewShift = 60;
inline constexpr ino_t kViewBits = ino_t{3} << kViewShift;
inline constexpr ino_t kEventsIno = kMirrorBit - 1;
inline constexpr absl::string_view kMirrorName = ".pcap";
inline constexpr absl::string_view kSeqpacketName = ".seqpacket";
inline constexpr absl::string_view kStreamName = ".stream";
inline constexpr absl::string_view kEventsName = ".events";

// Which mirror a mirror inode belongs to; the faces' values are FaceKind's.
enum class View : uint8_t { kPcap = 0, kSeqpacket = 1, kStream = 2 };
static_assert(static_cast<int>(View::kSeqpacket) == static_cast<int>(FaceKind::kSeqpacket));
static_assert(static_cast<int>(View::kStream) == static_cast<int>(FaceKind::kStream));

inline bool IsMirror(ino_t ino) { return (ino & kMirrorBit) != 0; }
inline bool IsVirtual(ino_t ino) { return IsMirror(ino) || ino == kEventsIno; }
// The real inode a mirror inode shows (a real inode is its own).
inline ino_t RealIno(ino_t ino) { return IsMirror(ino) ? ino & ~(kMirrorBit | kViewBits) : ino; }
inline View ViewOf(ino_t ino) { return static_cast<View>((ino & kViewBits) >> kViewShift); }
inline ino_t MirrorIno(ino_t real, View view) {
  return real | kMirrorBit | (static_cast<ino_t>(view) << kViewShift);
}
inline View ViewOf(FaceKind kind) { return static_cast<View>(kind); }
// The mirror named `name` at the root, if it is one.
inline std::optional<View> MirrorNamed(absl::string_view name) {
  if (name == kMirrorName) return View::kPcap;
  if (name == kSeqpacketName) return View::kSeqpacket;
  if (name == kStreamName) return View::kStream;
  return std::nullopt;
}
// True for the virtual names at the root.
inline bool IsReservedName(ino_t parent, absl::string_view name) {
  return parent == kRootIno && (MirrorNamed(name).has_value() || name == kEventsName);
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
  uint8_t faces_bound = 0;  // Networks: bit 1 << FaceKind for each socket face bound.

  bool face_bound(FaceKind kind) const { return (faces_bound >> static_cast<int>(kind)) & 1; }

  bool is_directory() const { return S_ISDIR(attr.mode); }
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_NAMESPACE_NODE_H_
