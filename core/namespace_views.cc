// Namespace: the virtual nodes /.pcap (a read-only mirror of the tree) and /.events, and events.
#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "core/errno_status.h"
#include "core/namespace.h"
#include "core/namespace_node.h"

namespace ipnfs {
namespace {

bool ShownInMirror(mode_t mode) { return S_ISDIR(mode) || S_ISREG(mode); }

}  // namespace

absl::StatusOr<Attributes> Namespace::VirtualAttributesLocked(ino_t ino) const {
  const Node& root = *Find(kRootIno);
  if (ino == kEventsIno) {
    Attributes attr = root.attr;
    attr.ino = kEventsIno;
    attr.mode = S_IFREG | 0444;
    attr.nlink = 1;
    attr.uid = 0;
    attr.gid = 0;
    return attr;
  }
  const Node* real = Find(ino & ~kMirrorBit);
  if (real == nullptr || !ShownInMirror(real->attr.mode)) {
    return ErrnoError(ENOENT, absl::StrCat("no inode ", ino));
  }
  Attributes attr = AttributesOf(*real);
  attr.ino = ino;
  attr.mode = (attr.mode & S_IFMT) | (attr.mode & (S_ISDIR(attr.mode) ? 0555 : 0444));
  return attr;
}

absl::StatusOr<Attributes> Namespace::LookupVirtualLocked(ino_t parent, absl::string_view name) {
  if (parent == kRootIno) {
    return VirtualAttributesLocked(name == kEventsName ? kEventsIno : kRootIno | kMirrorBit);
  }
  absl::StatusOr<Node*> dir = FindDirectory(parent & ~kMirrorBit);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<Node*> child = ChildOf(**dir, name);
  if (!child.ok()) return child.status();
  if (!ShownInMirror((*child)->attr.mode)) return ErrnoError(ENOENT, "not a network");
  ++(*child)->lookups;  // The mirror entry pins the real node, as its own lookup would.
  return VirtualAttributesLocked((*child)->attr.ino | kMirrorBit);
}

absl::StatusOr<std::vector<DirectoryEntry>> Namespace::ReadMirrorLocked(
    ino_t ino, const OperationContext& context) const {
  absl::StatusOr<Node*> dir = FindDirectory(ino & ~kMirrorBit);
  if (!dir.ok()) return dir.status();
  if (!MayAccess((*dir)->attr.mode, (*dir)->attr.uid, (*dir)->attr.gid, context.who, kMayRead)) {
    return ErrnoError(EACCES, "listing needs read permission");
  }
  std::vector<DirectoryEntry> entries;
  entries.push_back({".", ino, S_IFDIR});
  const ino_t parent = (*dir)->attr.ino == kRootIno ? kRootIno : (*dir)->parent | kMirrorBit;
  entries.push_back({"..", parent, S_IFDIR});
  for (const auto& [name, child_ino] : (*dir)->children) {
    const mode_t mode = Find(child_ino)->attr.mode;
    if (ShownInMirror(mode)) entries.push_back({name, child_ino | kMirrorBit, mode & S_IFMT});
  }
  return entries;
}

absl::StatusOr<std::shared_ptr<Network>> Namespace::OpenMonitor(
    ino_t ino, const OperationContext& context) const {
  absl::MutexLock lock(&mu_);
  const Node* real = IsMirror(ino) ? Find(ino & ~kMirrorBit) : nullptr;
  if (real == nullptr) return ErrnoError(ENOENT, absl::StrCat("no mirror inode ", ino));
  if (real->is_directory()) return ErrnoError(EISDIR, "is a directory");
  if (!real->network) return ErrnoError(EINVAL, "not a network");
  if (!MayAccess(real->attr.mode, real->attr.uid, real->attr.gid, context.who, kMayRead)) {
    return ErrnoError(EACCES, "monitoring needs read permission on the network");
  }
  return real->network;
}

absl::StatusOr<std::unique_ptr<Port>> Namespace::SubscribeEvents(const OperationContext& context,
                                                                 PortOwner owner) {
  return events_.Subscribe(context.who, std::move(owner), context.now);
}

void Namespace::PublishEvent(ino_t ino, absl::string_view kind, absl::string_view details,
                             absl::Time now) {
  if (!events_.HasReaders()) return;
  absl::MutexLock lock(&mu_);
  const Node* node = Find(ino);
  if (node != nullptr) PublishLocked(*node, kind, details, now);
}

void Namespace::PublishLocked(const Node& node, absl::string_view kind, absl::string_view details,
                              absl::Time now, absl::string_view path) {
  if (!events_.HasReaders()) return;
  std::string current;
  if (path.empty()) {
    current = node.attr.nlink == 0 && node.attr.ino != kRootIno ? "(removed)" : PathOf(node);
    path = current;
  }
  events_.Publish(now, kind, path,
                  EventSubject{.mode = node.attr.mode, .uid = node.attr.uid, .gid = node.attr.gid},
                  details);
}

}  // namespace ipnfs
