#include "core/namespace_permissions.h"

#include <linux/fs.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "core/errno_status.h"

namespace ipnfs {
namespace {

constexpr size_t kMaxNameLength = 255;

}  // namespace

absl::Status CheckEntryName(absl::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != absl::string_view::npos) {
    return ErrnoError(EINVAL, absl::StrCat("invalid name '", name, "'"));
  }
  return CheckNameLength(name);
}

absl::Status CheckNameLength(absl::string_view name) {
  if (name.size() > kMaxNameLength) return ErrnoError(ENAMETOOLONG, "name too long");
  return absl::OkStatus();
}

bool May(const Attributes& attr, const OperationContext& context, int mask) {
  return MayAccess(attr.mode, attr.uid, attr.gid, context.who, mask);
}

absl::Status Denied(absl::string_view what) { return ErrnoError(EACCES, what); }

absl::Status CheckMayAddEntry(const NamespaceNode& dir, const OperationContext& context) {
  if (dir.attr.nlink == 0) return ErrnoError(ENOENT, "directory was removed");
  if (!May(dir.attr, context, kMayWrite | kMayExecute)) {
    return Denied("creating an entry needs write and search permission on the directory");
  }
  return absl::OkStatus();
}

absl::Status CheckMayRemove(const NamespaceNode& dir, const NamespaceNode& victim,
                            const OperationContext& context) {
  if (!May(dir.attr, context, kMayWrite | kMayExecute)) {
    return Denied("removing an entry needs write and search permission on the directory");
  }
  if (!MayRemoveEntry(dir.attr.mode, dir.attr.uid, victim.attr.uid, context.who)) {
    return ErrnoError(EPERM, "sticky directory: only the owner may remove this entry");
  }
  return absl::OkStatus();
}

absl::Status CheckMayReplace(const NamespaceNode& dir, const NamespaceNode& replaced,
                             const NamespaceNode& node, unsigned int flags,
                             const OperationContext& context) {
  if (flags & RENAME_NOREPLACE) return ErrnoError(EEXIST, "target exists");
  if (absl::Status allowed = CheckMayRemove(dir, replaced, context); !allowed.ok()) return allowed;
  if (node.is_directory() && !replaced.is_directory()) {
    return ErrnoError(ENOTDIR, "cannot replace a non-directory with a directory");
  }
  if (!node.is_directory() && replaced.is_directory()) {
    return ErrnoError(EISDIR, "cannot replace a directory with a non-directory");
  }
  if (replaced.is_directory() && !replaced.children.empty()) {
    return ErrnoError(ENOTEMPTY, "target directory not empty");
  }
  return absl::OkStatus();
}

namespace {

// Ownership, group and times: what chmod, chown, chgrp and utimensat may change.
absl::Status CheckMayChangeOwnership(const Attributes& attr, const AttributeChanges& changes,
                                     const OperationContext& context) {
  const Credentials& who = context.who;
  const bool owner = who.IsRoot() || who.uid == attr.uid;
  if (changes.mode && !owner) return ErrnoError(EPERM, "only the owner may chmod");
  if (changes.uid && *changes.uid != attr.uid && !who.IsRoot()) {
    return ErrnoError(EPERM, "only root may change the owner");
  }
  if (changes.gid && *changes.gid != attr.gid && !who.IsRoot() &&
      !(who.uid == attr.uid && who.InGroup(*changes.gid))) {
    return ErrnoError(EPERM, "only root, or the owner to one of its groups, may change the group");
  }
  if ((changes.atime || changes.mtime) && !owner) {
    return ErrnoError(EPERM, "only the owner may set explicit times");
  }
  if ((changes.atime_now || changes.mtime_now) && !owner && !May(attr, context, kMayWrite)) {
    return Denied("touching needs ownership or write permission");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckMaySetAttributes(const NamespaceNode& node, const AttributeChanges& changes,
                                   const OperationContext& context) {
  if (absl::Status allowed = CheckMayChangeOwnership(node.attr, changes, context); !allowed.ok()) {
    return allowed;
  }
  if (changes.size) {
    if (node.is_directory()) return ErrnoError(EISDIR, "is a directory");
    if (!node.network) return ErrnoError(EINVAL, "cannot truncate");
    if (!May(node.attr, context, kMayWrite)) return Denied("truncate needs write permission");
    // A network has no bytes: truncating to 0 (shell '>') is accepted and ignored.
    if (*changes.size != 0) return ErrnoError(EINVAL, "a network's size is always 0");
  }
  return absl::OkStatus();
}

absl::Status CheckMayManage(const Attributes& attr, const OperationContext& context) {
  if (context.who.IsRoot() || May(attr, context, kMayExecute)) return absl::OkStatus();
  return Denied("managing a network needs x permission");
}

}  // namespace ipnfs
