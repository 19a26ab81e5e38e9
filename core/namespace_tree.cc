#include "core/namespace_tree.h"

#include <linux/fs.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/errno_status.h"
#include "core/namespace_permissions.h"

namespace ipnfs {
namespace {

absl::StatusOr<NamespaceNode*> NoInode(ino_t ino) {
  return ErrnoError(ENOENT, absl::StrCat("no inode ", ino));
}

absl::string_view TypeName(mode_t mode) {
  if (S_ISDIR(mode)) return "type=directory";
  if (S_ISLNK(mode)) return "type=symlink";
  return "type=network";
}

}  // namespace

// The nodes a rename touches, found and checked before anything changes.
struct NamespaceTree::RenamePlan {
  NamespaceNode* from_dir = nullptr;
  NamespaceNode* to_dir = nullptr;
  NamespaceNode* node = nullptr;
  NamespaceNode* replaced = nullptr;  // What `new_name` names now, if anything.
};

NamespaceTree::NamespaceTree(const Attributes& root, EventBus& events,
                             NamespaceInterfaces& interfaces)
    : events_(events), interfaces_(interfaces) {
  auto node = std::make_unique<NamespaceNode>();
  node->attr = root;
  node->attr.ino = kRootIno;
  node->parent = kRootIno;
  nodes_.emplace(kRootIno, std::move(node));
}

NamespaceNode* NamespaceTree::Find(ino_t ino) const {
  auto it = nodes_.find(ino);
  return it == nodes_.end() ? nullptr : it->second.get();
}

absl::StatusOr<NamespaceNode*> NamespaceTree::FindNode(ino_t ino) const {
  NamespaceNode* node = Find(ino);
  if (node == nullptr) return NoInode(ino);
  return node;
}

absl::StatusOr<NamespaceNode*> NamespaceTree::FindDirectory(ino_t ino) const {
  NamespaceNode* node = Find(ino);
  if (node == nullptr) return NoInode(ino);
  if (!node->is_directory()) return ErrnoError(ENOTDIR, "not a directory");
  return node;
}

absl::StatusOr<NamespaceNode*> NamespaceTree::ChildOf(const NamespaceNode& dir,
                                                      absl::string_view name) const {
  auto it = dir.children.find(name);
  if (it == dir.children.end()) return ErrnoError(ENOENT, absl::StrCat("no entry '", name, "'"));
  return Find(it->second);
}

std::string NamespaceTree::PathOf(const NamespaceNode& node) const {
  std::vector<absl::string_view> names;
  for (const NamespaceNode* at = &node; at->attr.ino != kRootIno;) {
    const NamespaceNode* parent = Find(at->parent);
    for (const auto& [name, ino] : parent->children) {
      if (ino == at->attr.ino) {
        names.push_back(name);
        break;
      }
    }
    at = parent;
  }
  std::string path;
  for (auto it = names.rbegin(); it != names.rend(); ++it) absl::StrAppend(&path, "/", *it);
  return path.empty() ? "/" : path;
}

Attributes NamespaceTree::AttributesOf(const NamespaceNode& node) {
  Attributes attr = node.attr;
  if (node.network) attr.mtime = std::max(attr.mtime, node.network->last_send());
  return attr;
}

void NamespaceTree::ForEach(absl::FunctionRef<void(const NamespaceNode&)> visit) const {
  for (const auto& [ino, node] : nodes_) visit(*node);
}

absl::StatusOr<Attributes> NamespaceTree::Lookup(ino_t parent, absl::string_view name,
                                                 const OperationContext& context) {
  absl::StatusOr<NamespaceNode*> dir = FindDirectory(parent);
  if (!dir.ok()) return dir.status();
  if (!May((*dir)->attr, context, kMayExecute)) return Denied("search permission denied");
  absl::StatusOr<NamespaceNode*> child = ChildOf(**dir, name);
  if (!child.ok()) return child.status();
  ++(*child)->lookups;
  return AttributesOf(**child);
}

void NamespaceTree::Forget(ino_t ino, uint64_t count) {
  NamespaceNode* node = Find(RealIno(ino));
  if (node == nullptr || RealIno(ino) == kRootIno || ino == kEventsIno) return;
  node->lookups -= std::min(node->lookups, count);
  MaybeFree(*node);
}

void NamespaceTree::MaybeFree(NamespaceNode& node) {
  if (node.attr.nlink == 0 && node.lookups == 0) nodes_.erase(node.attr.ino);
}

absl::StatusOr<Attributes> NamespaceTree::GetAttributes(ino_t ino) const {
  absl::StatusOr<NamespaceNode*> node = FindNode(ino);
  if (!node.ok()) return node.status();
  return AttributesOf(**node);
}

absl::StatusOr<Attributes> NamespaceTree::SetAttributes(ino_t ino, const AttributeChanges& changes,
                                                        const OperationContext& context) {
  if (IsVirtual(ino)) return ErrnoError(EROFS, "read-only view");
  absl::StatusOr<NamespaceNode*> node = FindNode(ino);
  if (!node.ok()) return node.status();
  if (absl::Status allowed = CheckMaySetAttributes(**node, changes, context); !allowed.ok()) {
    return allowed;
  }
  Attributes& attr = (*node)->attr;
  if (changes.mode) {
    mode_t mode = *changes.mode & 07777;
    if (!context.who.IsRoot() && !context.who.InGroup(attr.gid)) mode &= ~S_ISGID;
    attr.mode = (attr.mode & S_IFMT) | mode;
  }
  if (changes.uid) attr.uid = *changes.uid;
  if (changes.gid) attr.gid = *changes.gid;
  if (changes.atime) attr.atime = *changes.atime;
  if (changes.atime_now) attr.atime = context.now;
  if (changes.mtime) attr.mtime = *changes.mtime;
  if (changes.mtime_now) attr.mtime = context.now;
  attr.ctime = context.now;
  if (changes.mode || changes.uid || changes.gid) {
    Publish(**node, "set",
            absl::StrCat("mode=", absl::StrFormat("%04o", attr.mode & 07777), " uid=", attr.uid,
                         " gid=", attr.gid),
            context.now);
  }
  return AttributesOf(**node);
}

absl::StatusOr<std::string> NamespaceTree::ReadLink(ino_t ino) const {
  absl::StatusOr<NamespaceNode*> node = FindNode(ino);
  if (!node.ok()) return node.status();
  if (!S_ISLNK((*node)->attr.mode)) return ErrnoError(EINVAL, "not a symlink");
  return (*node)->target;
}

absl::StatusOr<std::vector<DirectoryEntry>> NamespaceTree::ReadDirectory(
    ino_t ino, const OperationContext& context) const {
  absl::StatusOr<NamespaceNode*> dir = FindDirectory(ino);
  if (!dir.ok()) return dir.status();
  if (!May((*dir)->attr, context, kMayRead)) return Denied("listing needs read permission");
  std::vector<DirectoryEntry> entries;
  entries.reserve((*dir)->children.size() + 2);
  entries.push_back({".", ino, S_IFDIR});
  entries.push_back({"..", (*dir)->parent, S_IFDIR});
  if (ino == kRootIno) {
    entries.push_back({std::string(kEventsName), kEventsIno, S_IFREG});
    for (View view : {View::kPcap, View::kSeqpacket, View::kStream}) {
      const absl::string_view name = view == View::kPcap        ? kMirrorName
                                     : view == View::kSeqpacket ? kSeqpacketName
                                                                : kStreamName;
      entries.push_back({std::string(name), MirrorIno(kRootIno, view), S_IFDIR});
    }
  }
  for (const auto& [name, child_ino] : (*dir)->children) {
    entries.push_back({name, child_ino, Find(child_ino)->attr.mode});
  }
  return entries;
}

absl::Status NamespaceTree::CheckAccess(ino_t ino, int mask,
                                        const OperationContext& context) const {
  absl::StatusOr<NamespaceNode*> node = FindNode(ino);
  if (!node.ok()) return node.status();
  if (!May((*node)->attr, context, mask)) return Denied("permission denied");
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Network>> NamespaceTree::OpenNetwork(
    ino_t ino, int mask, const OperationContext& context) const {
  absl::StatusOr<NamespaceNode*> node = FindNode(ino);
  if (!node.ok()) return node.status();
  if ((*node)->is_directory()) return ErrnoError(EISDIR, "is a directory");
  if (!(*node)->network) return ErrnoError(EINVAL, "not a network");
  if (!May((*node)->attr, context, mask)) {
    return Denied(mask & kMayWrite ? "sending needs write permission"
                                   : "receiving needs read permission");
  }
  return (*node)->network;
}

absl::StatusOr<NamespaceNode*> NamespaceTree::PrepareCreate(ino_t parent, absl::string_view name,
                                                            const OperationContext& context) const {
  if (absl::Status valid = CheckEntryName(name); !valid.ok()) return valid;
  if (absl::Status free = CheckFree(parent, name); !free.ok()) return free;
  absl::StatusOr<NamespaceNode*> dir = FindDirectory(parent);
  if (!dir.ok()) return dir.status();
  if (absl::Status allowed = CheckMayAddEntry(**dir, context); !allowed.ok()) return allowed;
  if ((*dir)->children.contains(name)) {
    return ErrnoError(EEXIST, absl::StrCat("'", name, "' exists"));
  }
  return *dir;
}

NamespaceNode& NamespaceTree::Add(NamespaceNode& dir, absl::string_view name, mode_t mode,
                                  const OperationContext& context) {
  const ino_t ino = next_ino_++;
  gid_t gid = context.who.gid;
  if (dir.attr.mode & S_ISGID) {
    gid = dir.attr.gid;  // BSD group semantics, as on ext4 for setgid directories.
    if (S_ISDIR(mode)) mode |= S_ISGID;
  }
  auto node = std::make_unique<NamespaceNode>();
  node->attr = Attributes{.ino = ino,
                          .mode = mode,
                          .nlink = static_cast<nlink_t>(S_ISDIR(mode) ? 2 : 1),
                          .uid = context.who.uid,
                          .gid = gid,
                          .atime = context.now,
                          .mtime = context.now,
                          .ctime = context.now};
  node->parent = dir.attr.ino;
  node->lookups = 1;
  dir.children.emplace(std::string(name), ino);
  if (S_ISDIR(mode)) ++dir.attr.nlink;
  dir.attr.mtime = dir.attr.ctime = context.now;
  NamespaceNode& added = *node;
  nodes_.emplace(ino, std::move(node));
  Publish(added, "create", TypeName(mode), context.now);
  return added;
}

absl::Status NamespaceTree::CheckMutable(ino_t parent, absl::string_view name) {
  if (IsVirtual(parent)) return ErrnoError(EROFS, "read-only view");
  if (IsReservedName(parent, name)) {
    return ErrnoError(EPERM, absl::StrCat("'", name, "' is reserved"));
  }
  return absl::OkStatus();
}

absl::Status NamespaceTree::CheckFree(ino_t parent, absl::string_view name) {
  if (IsVirtual(parent)) return ErrnoError(EROFS, "read-only view");
  if (IsReservedName(parent, name)) {
    return ErrnoError(EEXIST, absl::StrCat("'", name, "' is reserved"));
  }
  return absl::OkStatus();
}

void NamespaceTree::Unname(NamespaceNode& dir, absl::string_view name, NamespaceNode& victim,
                           absl::Time now) {
  const std::string path = PathOf(victim);
  dir.children.erase(dir.children.find(name));
  if (victim.is_directory()) --dir.attr.nlink;
  dir.attr.mtime = dir.attr.ctime = now;
  Publish(victim, "remove", "", now, path);
  // Interfaces belong to the name: a network removed from the tree lets them go.
  if (victim.network) {
    interfaces_.DetachAll(*victim.network);
    interfaces_.Withdraw(victim.attr.ino);
  }
  victim.attr.nlink = 0;
  victim.attr.ctime = now;
  MaybeFree(victim);
}

absl::Status NamespaceTree::Remove(ino_t parent, absl::string_view name, EntryType type,
                                   const OperationContext& context) {
  if (absl::Status writable = CheckMutable(parent, name); !writable.ok()) return writable;
  absl::StatusOr<NamespaceNode*> dir = FindDirectory(parent);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<NamespaceNode*> victim = ChildOf(**dir, name);
  if (!victim.ok()) return victim.status();
  const bool directory = type == EntryType::kDirectory;
  if ((*victim)->is_directory() != directory) {
    return directory ? ErrnoError(ENOTDIR, "not a directory")
                     : ErrnoError(EISDIR, "is a directory (use rmdir)");
  }
  if (absl::Status allowed = CheckMayRemove(**dir, **victim, context); !allowed.ok()) {
    return allowed;
  }
  if (!(*victim)->children.empty()) return ErrnoError(ENOTEMPTY, "directory not empty");
  Unname(**dir, name, **victim, context.now);
  return absl::OkStatus();
}

bool NamespaceTree::IsAncestor(ino_t ancestor, ino_t ino) const {
  while (true) {
    if (ino == ancestor) return true;
    if (ino == kRootIno) return false;
    const NamespaceNode* node = Find(ino);
    if (node == nullptr) return false;
    ino = node->parent;
  }
}

absl::StatusOr<NamespaceTree::Outcome> NamespaceTree::Rename(ino_t parent, absl::string_view name,
                                                             ino_t new_parent,
                                                             absl::string_view new_name,
                                                             unsigned int flags,
                                                             const OperationContext& context) {
  if (flags & ~static_cast<unsigned int>(RENAME_NOREPLACE)) {
    return ErrnoError(EINVAL, "only RENAME_NOREPLACE is supported");
  }
  if (absl::Status valid = CheckEntryName(new_name); !valid.ok()) return valid;
  if (absl::Status writable = CheckMutable(parent, name); !writable.ok()) return writable;
  if (absl::Status free = CheckFree(new_parent, new_name); !free.ok()) return free;
  absl::StatusOr<RenamePlan> plan = PlanRename(parent, name, new_parent, new_name, flags, context);
  if (!plan.ok()) return plan.status();
  if (plan->replaced == plan->node) return Outcome::kUnchanged;
  ApplyRename(*plan, name, new_name, context.now);
  return Outcome::kChanged;
}

absl::StatusOr<NamespaceTree::RenamePlan> NamespaceTree::PlanRename(
    ino_t parent, absl::string_view name, ino_t new_parent, absl::string_view new_name,
    unsigned int flags, const OperationContext& context) const {
  RenamePlan plan;
  absl::StatusOr<NamespaceNode*> found = FindDirectory(parent);
  if (!found.ok()) return found.status();
  plan.from_dir = *found;
  if (found = FindDirectory(new_parent); !found.ok()) return found.status();
  plan.to_dir = *found;
  if (found = ChildOf(*plan.from_dir, name); !found.ok()) return found.status();
  plan.node = *found;
  const NamespaceNode& node = *plan.node;
  if (absl::Status allowed = CheckMayRemove(*plan.from_dir, node, context); !allowed.ok()) {
    return allowed;
  }
  if (!May(plan.to_dir->attr, context, kMayWrite | kMayExecute)) {
    return Denied("renaming needs write and search permission on the target directory");
  }
  if (node.is_directory() && parent != new_parent) {
    if (IsAncestor(node.attr.ino, new_parent)) {
      return ErrnoError(EINVAL, "cannot move a directory into itself");
    }
    if (!May(node.attr, context, kMayWrite)) return Denied("moving a directory needs write on it");
  }
  if (auto it = plan.to_dir->children.find(new_name); it != plan.to_dir->children.end()) {
    plan.replaced = Find(it->second);
    if (plan.replaced == plan.node) return plan;  // Both names are the same node already.
    if (absl::Status allowed =
            CheckMayReplace(*plan.to_dir, *plan.replaced, *plan.node, flags, context);
        !allowed.ok()) {
      return allowed;
    }
  }
  return plan;
}

void NamespaceTree::ApplyRename(const RenamePlan& plan, absl::string_view name,
                                absl::string_view new_name, absl::Time now) {
  NamespaceNode& node = *plan.node;
  if (plan.replaced != nullptr) Unname(*plan.to_dir, new_name, *plan.replaced, now);
  const std::string old_path = PathOf(node);
  plan.from_dir->children.erase(plan.from_dir->children.find(name));
  plan.to_dir->children.emplace(std::string(new_name), node.attr.ino);
  node.parent = plan.to_dir->attr.ino;
  if (node.is_directory()) {
    --plan.from_dir->attr.nlink;
    ++plan.to_dir->attr.nlink;
  }
  node.attr.ctime = now;
  for (NamespaceNode* dir : {plan.from_dir, plan.to_dir}) dir->attr.mtime = dir->attr.ctime = now;
  Publish(node, "rename", absl::StrCat("to=", PathOf(node)), now, old_path);
}

void NamespaceTree::Publish(const NamespaceNode& node, absl::string_view kind,
                            absl::string_view details, absl::Time now,
                            absl::string_view path) const {
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
