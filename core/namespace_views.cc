#include "core/namespace_views.h"

#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "core/errno_status.h"
#include "core/namespace_permissions.h"

namespace ipnfs {

bool NamespaceViews::Shows(View view, const NamespaceNode& node) {
  if (node.is_directory()) return true;
  if (!S_ISREG(node.attr.mode)) return false;  // Symlinks are not mirrored.
  return view == View::kPcap || node.face_bound(static_cast<FaceKind>(view));
}

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
  const NamespaceNode* real = tree_.Find(RealIno(ino));
  const View view = ViewOf(ino);
  if (real == nullptr || !Shows(view, *real)) {
    return ErrnoError(ENOENT, absl::StrCat("no inode ", ino));
  }
  Attributes attr = NamespaceTree::AttributesOf(*real);
  attr.ino = ino;
  if (attr.mode & S_IFDIR) {
    attr.mode = S_IFDIR | (attr.mode & 0555);
  } else if (view == View::kPcap) {
    attr.mode = S_IFREG | (attr.mode & 0444);
  } else {
    attr.mode = S_IFSOCK | (attr.mode & 07777);
    attr.size = 0;
  }
  return attr;
}

absl::StatusOr<Attributes> NamespaceViews::Lookup(ino_t parent, absl::string_view name) {
  if (parent == kRootIno) {
    if (name == kEventsName) return GetAttributes(kEventsIno);
    return GetAttributes(MirrorIno(kRootIno, MirrorNamed(name).value_or(View::kPcap)));
  }
  absl::StatusOr<NamespaceNode*> dir = tree_.FindDirectory(RealIno(parent));
  if (!dir.ok()) return dir.status();
  absl::StatusOr<NamespaceNode*> child = tree_.ChildOf(**dir, name);
  if (!child.ok()) return child.status();
  const View view = ViewOf(parent);
  if (!Shows(view, **child)) return ErrnoError(ENOENT, "not shown in this view");
  ++(*child)->lookups;  // The mirror entry pins the real node, as its own lookup would.
  return GetAttributes(MirrorIno((*child)->attr.ino, view));
}

absl::StatusOr<std::vector<DirectoryEntry>> NamespaceViews::ReadDirectory(
    ino_t ino, const OperationContext& context) const {
  absl::StatusOr<NamespaceNode*> dir = tree_.FindDirectory(RealIno(ino));
  if (!dir.ok()) return dir.status();
  if (!May((*dir)->attr, context, kMayRead)) return Denied("listing needs read permission");
  const View view = ViewOf(ino);
  std::vector<DirectoryEntry> entries;
  entries.push_back({".", ino, S_IFDIR});
  const ino_t parent = (*dir)->attr.ino == kRootIno ? kRootIno : MirrorIno((*dir)->parent, view);
  entries.push_back({"..", parent, S_IFDIR});
  for (const auto& [name, child_ino] : (*dir)->children) {
    const NamespaceNode& child = *tree_.Find(child_ino);
    if (!Shows(view, child)) continue;
    const mode_t type =
        child.is_directory() || view == View::kPcap ? child.attr.mode & S_IFMT : S_IFSOCK;
    entries.push_back({name, MirrorIno(child_ino, view), type});
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
  const NamespaceNode* real = IsMirror(ino) ? tree_.Find(RealIno(ino)) : nullptr;
  if (real == nullptr) return ErrnoError(ENOENT, absl::StrCat("no mirror inode ", ino));
  if (real->is_directory()) return ErrnoError(EISDIR, "is a directory");
  if (ViewOf(ino) != View::kPcap) return ErrnoError(ENXIO, "a socket: connect(2) to it");
  if (!real->network) return ErrnoError(EINVAL, "not a network");
  if (!May(real->attr, context, kMayRead)) {
    return Denied("monitoring needs read permission on the network");
  }
  return real->network;
}

absl::StatusOr<Attributes> NamespaceViews::Bind(ino_t parent, absl::string_view name,
                                                const FaceBackend* backend, pid_t tid) {
  const View view = ViewOf(parent);
  if (!IsMirror(parent) || view == View::kPcap) return ErrnoError(EROFS, "read-only view");
  const FaceKind kind = static_cast<FaceKind>(view);
  absl::StatusOr<NamespaceNode*> dir = tree_.FindDirectory(RealIno(parent));
  if (!dir.ok()) return dir.status();
  absl::StatusOr<NamespaceNode*> child = tree_.ChildOf(**dir, name);
  if (!child.ok() || !(*child)->network || backend == nullptr ||
      !backend->IsBinding(tid, (*child)->attr.ino, kind)) {
    return ErrnoError(EROFS, "read-only view: only the daemon binds the socket faces");
  }
  if ((*child)->face_bound(kind)) return ErrnoError(EEXIST, "face already bound");
  (*child)->faces_bound |= static_cast<uint8_t>(1 << static_cast<int>(kind));
  ++(*child)->lookups;  // The kernel holds the entry it made.
  return GetAttributes(MirrorIno((*child)->attr.ino, view));
}

}  // namespace ipnfs
