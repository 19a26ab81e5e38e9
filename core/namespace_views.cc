#include "core/namespace_views.h"

#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "core/errno_status.h"
#include "core/namespace_permissions.h"

namespace ipnfs {
namespace {

bool ShownInMirror(mode_t mode) { return S_ISDIR(mode) || S_ISREG(mode); }

}  // namespace

absl::StatusOr<Attributes> NamespaceViews::GetAttributes(ino_t ino) const {
  if (ino == kEventsIno) {
    Attributes attr = tree_.root().attr;
    attr.ino = kEventsIno;
    attr.mode = S_IFREG | 0444;
    attr.nlink = 1;
    attr.uid = 0;
    attr.gid = 0;
    return attr;
  }
  const NamespaceNode* real = tree_.Find(ino & ~kMirrorBit);
  if (real == nullptr || !ShownInMirror(real->attr.mode)) {
    return ErrnoError(ENOENT, absl::StrCat("no inode ", ino));
  }
  Attributes attr = NamespaceTree::AttributesOf(*real);
  attr.ino = ino;
  attr.mode = (attr.mode & S_IFMT) | (attr.mode & (S_ISDIR(attr.mode) ? 0555 : 0444));
  return attr;
}

absl::StatusOr<Attributes> NamespaceViews::Lookup(ino_t parent, absl::string_view name) {
  if (parent == kRootIno) {
    return GetAttributes(name == kEventsName ? kEventsIno : kRootIno | kMirrorBit);
  }
  absl::StatusOr<NamespaceNode*> dir = tree_.FindDirectory(parent & ~kMirrorBit);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<NamespaceNode*> child = tree_.ChildOf(**dir, name);
  if (!child.ok()) return child.status();
  if (!ShownInMirror((*child)->attr.mode)) return ErrnoError(ENOENT, "not a network");
  ++(*child)->lookups;  // The mirror entry pins the real node, as its own lookup would.
  return GetAttributes((*child)->attr.ino | kMirrorBit);
}

absl::StatusOr<std::vector<DirectoryEntry>> NamespaceViews::ReadDirectory(
    ino_t ino, const OperationContext& context) const {
  absl::StatusOr<NamespaceNode*> dir = tree_.FindDirectory(ino & ~kMirrorBit);
  if (!dir.ok()) return dir.status();
  if (!May((*dir)->attr, context, kMayRead)) return Denied("listing needs read permission");
  std::vector<DirectoryEntry> entries;
  entries.push_back({".", ino, S_IFDIR});
  const ino_t parent = (*dir)->attr.ino == kRootIno ? kRootIno : (*dir)->parent | kMirrorBit;
  entries.push_back({"..", parent, S_IFDIR});
  for (const auto& [name, child_ino] : (*dir)->children) {
    const mode_t mode = tree_.Find(child_ino)->attr.mode;
    if (ShownInMirror(mode)) entries.push_back({name, child_ino | kMirrorBit, mode & S_IFMT});
  }
  return entries;
}

absl::Status NamespaceViews::CheckAccess(ino_t ino, int mask,
                                         const OperationContext& context) const {
  absl::StatusOr<Attributes> attr = GetAttributes(ino);
  if (!attr.ok()) return attr.status();
  if (!May(*attr, context, mask)) return Denied("permission denied");
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Network>> NamespaceViews::OpenMonitor(
    ino_t ino, const OperationContext& context) const {
  const NamespaceNode* real = IsMirror(ino) ? tree_.Find(ino & ~kMirrorBit) : nullptr;
  if (real == nullptr) return ErrnoError(ENOENT, absl::StrCat("no mirror inode ", ino));
  if (real->is_directory()) return ErrnoError(EISDIR, "is a directory");
  if (!real->network) return ErrnoError(EINVAL, "not a network");
  if (!May(real->attr, context, kMayRead)) {
    return Denied("monitoring needs read permission on the network");
  }
  return real->network;
}

}  // namespace ipnfs
