#include "core/namespace.h"

#include <linux/fs.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/errno_status.h"
#include "core/namespace_node.h"
#include "policies/policy_registry.h"

namespace ipnfs {

namespace {

constexpr size_t kMaxNameLength = 255;

}  // namespace

absl::Status CheckEntryName(absl::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != absl::string_view::npos) {
    return ErrnoError(EINVAL, absl::StrCat("invalid name '", name, "'"));
  }
  if (name.size() > kMaxNameLength) return ErrnoError(ENAMETOOLONG, "name too long");
  return absl::OkStatus();
}

namespace {

bool May(const Attributes& attr, const OperationContext& context, int mask) {
  return MayAccess(attr.mode, attr.uid, attr.gid, context.who, mask);
}

absl::Status Denied(absl::string_view what) { return ErrnoError(EACCES, what); }

}  // namespace

Namespace::Namespace(const Options& options, absl::Time now) : options_(options) {
  auto root = std::make_unique<Node>();
  root->attr = Attributes{.ino = kRootIno,
                          .mode = static_cast<mode_t>(S_IFDIR | (options.root_mode & 07777)),
                          .nlink = 2,
                          .uid = options.root_uid,
                          .gid = options.root_gid,
                          .atime = now,
                          .mtime = now,
                          .ctime = now};
  root->parent = kRootIno;
  absl::MutexLock lock(&mu_);
  nodes_.emplace(kRootIno, std::move(root));
}

Namespace::~Namespace() = default;

Namespace::Node* Namespace::Find(ino_t ino) const {
  auto it = nodes_.find(ino);
  return it == nodes_.end() ? nullptr : it->second.get();
}

absl::StatusOr<Namespace::Node*> Namespace::FindDirectory(ino_t ino) const {
  Node* node = Find(ino);
  if (node == nullptr) return ErrnoError(ENOENT, absl::StrCat("no inode ", ino));
  if (!node->is_directory()) return ErrnoError(ENOTDIR, "not a directory");
  return node;
}

absl::StatusOr<Namespace::Node*> Namespace::ChildOf(const Node& dir,
                                                    absl::string_view name) const {
  auto it = dir.children.find(name);
  if (it == dir.children.end()) return ErrnoError(ENOENT, absl::StrCat("no entry '", name, "'"));
  return Find(it->second);
}

Attributes Namespace::AttributesOf(const Node& node) const {
  Attributes attr = node.attr;
  if (node.network) attr.mtime = std::max(attr.mtime, node.network->last_send());
  return attr;
}

absl::StatusOr<Attributes> Namespace::Lookup(ino_t parent, absl::string_view name,
                                             const OperationContext& context) {
  if (name.size() > kMaxNameLength) return ErrnoError(ENAMETOOLONG, "name too long");
  absl::MutexLock lock(&mu_);
  if (IsVirtual(parent) || (parent == kRootIno && (name == kMirrorName || name == kEventsName))) {
    return LookupVirtualLocked(parent, name);
  }
  absl::StatusOr<Node*> dir = FindDirectory(parent);
  if (!dir.ok()) return dir.status();
  if (!May((*dir)->attr, context, kMayExecute)) return Denied("search permission denied");
  absl::StatusOr<Node*> child = ChildOf(**dir, name);
  if (!child.ok()) return child.status();
  ++(*child)->lookups;
  return AttributesOf(**child);
}

void Namespace::Forget(ino_t ino, uint64_t count) {
  absl::MutexLock lock(&mu_);
  Node* node = Find(ino & ~kMirrorBit);  // A mirror entry pinned its real node.
  if (node == nullptr || (ino & ~kMirrorBit) == kRootIno || ino == kEventsIno) return;
  node->lookups -= std::min(node->lookups, count);
  MaybeFree(*node);
}

void Namespace::MaybeFree(Node& node) {
  if (node.attr.nlink == 0 && node.lookups == 0) nodes_.erase(node.attr.ino);
}

absl::StatusOr<Attributes> Namespace::GetAttributes(ino_t ino) const {
  absl::MutexLock lock(&mu_);
  if (IsVirtual(ino)) return VirtualAttributesLocked(ino);
  Node* node = Find(ino);
  if (node == nullptr) return ErrnoError(ENOENT, absl::StrCat("no inode ", ino));
  return AttributesOf(*node);
}

absl::StatusOr<Attributes> Namespace::SetAttributes(ino_t ino, const AttributeChanges& changes,
                                                    const OperationContext& context) {
  absl::MutexLock lock(&mu_);
  if (IsVirtual(ino)) return ErrnoError(EROFS, "read-only view");
  Node* node = Find(ino);
  if (node == nullptr) return ErrnoError(ENOENT, absl::StrCat("no inode ", ino));
  Attributes& attr = node->attr;
  const Credentials& who = context.who;
  const bool owner = who.IsRoot() || who.uid == attr.uid;
  // Check everything first: a refused request changes nothing.
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
  if (changes.size) {
    if (node->is_directory()) return ErrnoError(EISDIR, "is a directory");
    if (!node->network) return ErrnoError(EINVAL, "cannot truncate");
    if (!May(attr, context, kMayWrite)) return Denied("truncate needs write permission");
    // A network has no bytes: truncating to 0 (shell '>') is accepted and ignored.
    if (*changes.size != 0) return ErrnoError(EINVAL, "a network's size is always 0");
  }

  if (changes.mode) {
    mode_t mode = *changes.mode & 07777;
    if (!who.IsRoot() && !who.InGroup(attr.gid)) mode &= ~S_ISGID;
    attr.mode = (attr.mode & S_IFMT) | mode;
  }
  if (changes.uid) attr.uid = *changes.uid;
  if (changes.gid) attr.gid = *changes.gid;
  if (changes.atime) attr.atime = *changes.atime;
  if (changes.atime_now) attr.atime = context.now;
  if (changes.mtime) attr.mtime = *changes.mtime;
  if (changes.mtime_now) attr.mtime = context.now;
  attr.ctime = context.now;
  PersistLocked();
  if (changes.mode || changes.uid || changes.gid) {
    PublishLocked(*node, "set", absl::StrCat("mode=", absl::StrFormat("%04o", attr.mode & 07777),
                                             " uid=", attr.uid, " gid=", attr.gid),
                  context.now);
  }
  return AttributesOf(*node);
}

absl::StatusOr<Namespace::Node*> Namespace::PrepareCreate(ino_t parent, absl::string_view name,
                                                          const OperationContext& context) {
  if (absl::Status valid = CheckEntryName(name); !valid.ok()) return valid;
  if (IsVirtual(parent)) return ErrnoError(EROFS, "read-only view");
  if (parent == kRootIno && (name == kMirrorName || name == kEventsName)) {
    return ErrnoError(EEXIST, absl::StrCat("'", name, "' is reserved"));
  }
  absl::StatusOr<Node*> dir = FindDirectory(parent);
  if (!dir.ok()) return dir.status();
  if ((*dir)->attr.nlink == 0) return ErrnoError(ENOENT, "directory was removed");
  if (!May((*dir)->attr, context, kMayWrite | kMayExecute)) {
    return Denied("creating an entry needs write and search permission on the directory");
  }
  if ((*dir)->children.contains(name)) {
    return ErrnoError(EEXIST, absl::StrCat("'", name, "' exists"));
  }
  return *dir;
}

Namespace::Node& Namespace::AddNode(Node& parent, absl::string_view name, mode_t mode,
                                    const OperationContext& context) {
  auto node = std::make_unique<Node>();
  const ino_t ino = next_ino_++;
  gid_t gid = context.who.gid;
  if (parent.attr.mode & S_ISGID) {
    gid = parent.attr.gid;  // BSD group semantics, as on ext4 for setgid directories.
    if (S_ISDIR(mode)) mode |= S_ISGID;
  }
  node->attr = Attributes{.ino = ino,
                          .mode = mode,
                          .nlink = static_cast<nlink_t>(S_ISDIR(mode) ? 2 : 1),
                          .uid = context.who.uid,
                          .gid = gid,
                          .atime = context.now,
                          .mtime = context.now,
                          .ctime = context.now};
  node->parent = parent.attr.ino;
  node->lookups = 1;
  parent.children.emplace(std::string(name), ino);
  if (S_ISDIR(mode)) ++parent.attr.nlink;
  parent.attr.mtime = parent.attr.ctime = context.now;
  Node& added = *node;
  nodes_.emplace(ino, std::move(node));
  PublishLocked(added, "create",
                S_ISDIR(mode) ? "type=directory" : S_ISLNK(mode) ? "type=symlink" : "type=network",
                context.now);
  return added;
}

absl::StatusOr<Attributes> Namespace::MakeDirectory(ino_t parent, absl::string_view name,
                                                    mode_t mode, const OperationContext& context) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Node*> dir = PrepareCreate(parent, name, context);
  if (!dir.ok()) return dir.status();
  Node& node = AddNode(**dir, name, S_IFDIR | (mode & 07777), context);
  PersistLocked();
  return AttributesOf(node);
}

absl::StatusOr<Attributes> Namespace::MakeNetwork(ino_t parent, absl::string_view name,
                                                  mode_t mode, const OperationContext& context) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Node*> dir = PrepareCreate(parent, name, context);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<std::shared_ptr<Network>> network = CreateNetwork(InheritedConfig(**dir));
  if (!network.ok()) return network.status();
  Node& node = AddNode(**dir, name, S_IFREG | (mode & 07777), context);
  node.network = *std::move(network);
  PersistLocked();
  return AttributesOf(node);
}

absl::StatusOr<std::shared_ptr<Network>> Namespace::CreateNetwork(const NetworkConfig& config) {
  absl::StatusOr<std::unique_ptr<Policy>> policy = CreatePolicy(config.policy);
  if (!policy.ok()) return policy.status();
  std::shared_ptr<Network> network = Network::Create(*std::move(policy), config);
  std::erase_if(networks_, [](const std::weak_ptr<Network>& n) { return n.expired(); });
  networks_.push_back(network);
  return network;
}

NetworkConfig Namespace::InheritedConfig(const Node& dir) const {
  std::vector<const Node*> chain;
  for (const Node* node = &dir;; node = Find(node->parent)) {
    chain.push_back(node);
    if (node->attr.ino == kRootIno) break;
  }
  NetworkConfig config = options_.network_defaults;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    for (const auto& [name, value] : (*it)->defaults) {
      // Values were validated when set; a policy removed since then keeps the previous one.
      ApplySetting(name, value, options_.limits, &config).IgnoreError();
    }
  }
  return config;
}

absl::StatusOr<Attributes> Namespace::MakeSymlink(ino_t parent, absl::string_view name,
                                                  absl::string_view target,
                                                  const OperationContext& context) {
  if (target.empty() || target.size() >= PATH_MAX) {
    return ErrnoError(target.empty() ? ENOENT : ENAMETOOLONG, "bad symlink target");
  }
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Node*> dir = PrepareCreate(parent, name, context);
  if (!dir.ok()) return dir.status();
  Node& node = AddNode(**dir, name, S_IFLNK | 0777, context);
  node.target = std::string(target);
  node.attr.size = static_cast<off_t>(target.size());
  PersistLocked();
  return AttributesOf(node);
}

absl::StatusOr<std::string> Namespace::ReadLink(ino_t ino) const {
  absl::MutexLock lock(&mu_);
  Node* node = Find(ino);
  if (node == nullptr) return ErrnoError(ENOENT, absl::StrCat("no inode ", ino));
  if (!S_ISLNK(node->attr.mode)) return ErrnoError(EINVAL, "not a symlink");
  return node->target;
}

absl::Status Namespace::CheckRemove(const Node& dir, const Node& victim,
                                    const OperationContext& context) const {
  if (!May(dir.attr, context, kMayWrite | kMayExecute)) {
    return Denied("removing an entry needs write and search permission on the directory");
  }
  if (!MayRemoveEntry(dir.attr.mode, dir.attr.uid, victim.attr.uid, context.who)) {
    return ErrnoError(EPERM, "sticky directory: only the owner may remove this entry");
  }
  return absl::OkStatus();
}

absl::Status Namespace::CheckMutableLocked(ino_t parent, absl::string_view name) const {
  if (IsVirtual(parent)) return ErrnoError(EROFS, "read-only view");
  if (parent == kRootIno && (name == kMirrorName || name == kEventsName)) {
    return ErrnoError(EPERM, absl::StrCat("'", name, "' is reserved"));
  }
  return absl::OkStatus();
}

void Namespace::DropName(Node& node, absl::Time now, const std::string& path) {
  PublishLocked(node, "remove", "", now, path);
  if (node.network && backend_ != nullptr) {
    // Interfaces belong to the name: a network removed from the tree lets them go.
    for (InterfaceKind kind : {InterfaceKind::kTap, InterfaceKind::kGrab}) {
      for (const std::string& name : backend_->Attached(kind, *node.network)) {
        backend_->Detach(kind, name, *node.network).IgnoreError();
      }
    }
  }
  node.attr.nlink = 0;
  node.attr.ctime = now;
  MaybeFree(node);
}

absl::Status Namespace::Unlink(ino_t parent, absl::string_view name,
                               const OperationContext& context) {
  return RemoveEntry(parent, name, /*directory=*/false, context);
}

absl::Status Namespace::RemoveDirectory(ino_t parent, absl::string_view name,
                                        const OperationContext& context) {
  return RemoveEntry(parent, name, /*directory=*/true, context);
}

absl::Status Namespace::RemoveEntry(ino_t parent, absl::string_view name, bool directory,
                                    const OperationContext& context) {
  absl::MutexLock lock(&mu_);
  if (absl::Status writable = CheckMutableLocked(parent, name); !writable.ok()) return writable;
  absl::StatusOr<Node*> dir = FindDirectory(parent);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<Node*> victim = ChildOf(**dir, name);
  if (!victim.ok()) return victim.status();
  if ((*victim)->is_directory() != directory) {
    return directory ? ErrnoError(ENOTDIR, "not a directory")
                     : ErrnoError(EISDIR, "is a directory (use rmdir)");
  }
  if (absl::Status allowed = CheckRemove(**dir, **victim, context); !allowed.ok()) return allowed;
  if (!(*victim)->children.empty()) return ErrnoError(ENOTEMPTY, "directory not empty");
  const std::string path = PathOf(**victim);
  (*dir)->children.erase((*dir)->children.find(name));
  if (directory) --(*dir)->attr.nlink;
  (*dir)->attr.mtime = (*dir)->attr.ctime = context.now;
  DropName(**victim, context.now, path);
  PersistLocked();
  return absl::OkStatus();
}

bool Namespace::IsAncestor(ino_t ancestor, ino_t ino) const {
  while (true) {
    if (ino == ancestor) return true;
    if (ino == kRootIno) return false;
    const Node* node = Find(ino);
    if (node == nullptr) return false;
    ino = node->parent;
  }
}

absl::Status Namespace::Rename(ino_t parent, absl::string_view name, ino_t new_parent,
                               absl::string_view new_name, unsigned int flags,
                               const OperationContext& context) {
  if (flags & ~static_cast<unsigned int>(RENAME_NOREPLACE)) {
    return ErrnoError(EINVAL, "only RENAME_NOREPLACE is supported");
  }
  if (absl::Status valid = CheckEntryName(new_name); !valid.ok()) return valid;
  absl::MutexLock lock(&mu_);
  if (absl::Status writable = CheckMutableLocked(parent, name); !writable.ok()) return writable;
  if (IsVirtual(new_parent)) return ErrnoError(EROFS, "read-only view");
  if (new_parent == kRootIno && (new_name == kMirrorName || new_name == kEventsName)) {
    return ErrnoError(EEXIST, absl::StrCat("'", new_name, "' is reserved"));
  }
  absl::StatusOr<Node*> from_dir = FindDirectory(parent);
  if (!from_dir.ok()) return from_dir.status();
  absl::StatusOr<Node*> to_dir = FindDirectory(new_parent);
  if (!to_dir.ok()) return to_dir.status();
  absl::StatusOr<Node*> source = ChildOf(**from_dir, name);
  if (!source.ok()) return source.status();
  Node& node = **source;
  if (absl::Status allowed = CheckRemove(**from_dir, node, context); !allowed.ok()) return allowed;
  if (!May((*to_dir)->attr, context, kMayWrite | kMayExecute)) {
    return Denied("renaming needs write and search permission on the target directory");
  }
  if (node.is_directory() && parent != new_parent) {
    if (IsAncestor(node.attr.ino, new_parent)) {
      return ErrnoError(EINVAL, "cannot move a directory into itself");
    }
    if (!May(node.attr, context, kMayWrite)) return Denied("moving a directory needs write on it");
  }
  Node* replaced = nullptr;
  if (auto it = (*to_dir)->children.find(new_name); it != (*to_dir)->children.end()) {
    replaced = Find(it->second);
    if (replaced == &node) return absl::OkStatus();
    if (flags & RENAME_NOREPLACE) return ErrnoError(EEXIST, "target exists");
    if (absl::Status allowed = CheckRemove(**to_dir, *replaced, context); !allowed.ok()) {
      return allowed;
    }
    if (node.is_directory() && !replaced->is_directory()) {
      return ErrnoError(ENOTDIR, "cannot replace a non-directory with a directory");
    }
    if (!node.is_directory() && replaced->is_directory()) {
      return ErrnoError(EISDIR, "cannot replace a directory with a non-directory");
    }
    if (replaced->is_directory() && !replaced->children.empty()) {
      return ErrnoError(ENOTEMPTY, "target directory not empty");
    }
  }

  if (replaced != nullptr) {
    const std::string replaced_path = PathOf(*replaced);
    (*to_dir)->children.erase((*to_dir)->children.find(new_name));
    if (replaced->is_directory()) --(*to_dir)->attr.nlink;
    DropName(*replaced, context.now, replaced_path);
  }
  const std::string old_path = PathOf(node);
  (*from_dir)->children.erase((*from_dir)->children.find(name));
  (*to_dir)->children.emplace(std::string(new_name), node.attr.ino);
  node.parent = new_parent;
  if (node.is_directory()) {
    --(*from_dir)->attr.nlink;
    ++(*to_dir)->attr.nlink;
  }
  node.attr.ctime = context.now;
  for (Node* dir : {*from_dir, *to_dir}) dir->attr.mtime = dir->attr.ctime = context.now;
  PersistLocked();
  PublishLocked(node, "rename", absl::StrCat("to=", PathOf(node)), context.now, old_path);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DirectoryEntry>> Namespace::ReadDirectory(
    ino_t ino, const OperationContext& context) const {
  absl::MutexLock lock(&mu_);
  if (IsMirror(ino)) return ReadMirrorLocked(ino, context);
  absl::StatusOr<Node*> dir = FindDirectory(ino);
  if (!dir.ok()) return dir.status();
  if (!May((*dir)->attr, context, kMayRead)) return Denied("listing needs read permission");
  std::vector<DirectoryEntry> entries;
  entries.reserve((*dir)->children.size() + 2);
  entries.push_back({".", ino, S_IFDIR});
  entries.push_back({"..", (*dir)->parent, S_IFDIR});
  if (ino == kRootIno) {
    entries.push_back({std::string(kEventsName), kEventsIno, S_IFREG});
    entries.push_back({std::string(kMirrorName), kRootIno | kMirrorBit, S_IFDIR});
  }
  for (const auto& [name, child_ino] : (*dir)->children) {
    entries.push_back({name, child_ino, Find(child_ino)->attr.mode});
  }
  return entries;
}

absl::Status Namespace::CheckAccess(ino_t ino, int mask, const OperationContext& context) const {
  absl::MutexLock lock(&mu_);
  if (IsVirtual(ino)) {
    absl::StatusOr<Attributes> attr = VirtualAttributesLocked(ino);
    if (!attr.ok()) return attr.status();
    if (!May(*attr, context, mask)) return Denied("permission denied");
    return absl::OkStatus();
  }
  Node* node = Find(ino);
  if (node == nullptr) return ErrnoError(ENOENT, absl::StrCat("no inode ", ino));
  if (!May(node->attr, context, mask)) return Denied("permission denied");
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Network>> Namespace::OpenNetwork(
    ino_t ino, int mask, const OperationContext& context) const {
  absl::MutexLock lock(&mu_);
  Node* node = Find(ino);
  if (node == nullptr) return ErrnoError(ENOENT, absl::StrCat("no inode ", ino));
  if (node->is_directory()) return ErrnoError(EISDIR, "is a directory");
  if (!node->network) return ErrnoError(EINVAL, "not a network");
  if (!May(node->attr, context, mask)) {
    return Denied(mask & kMayWrite ? "sending needs write permission"
                                   : "receiving needs read permission");
  }
  return node->network;
}

size_t Namespace::node_count() const {
  absl::MutexLock lock(&mu_);
  return nodes_.size();
}

}  // namespace ipnfs
