#include "core/namespace.h"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <utility>

#include "core/errno_status.h"

namespace ipnfs {
namespace {

Attributes RootAttributes(const Namespace::Options& options, absl::Time now) {
  return Attributes{.ino = kRootIno,
                    .mode = static_cast<mode_t>(S_IFDIR | (options.root_mode & 07777)),
                    .nlink = 2,
                    .uid = options.root_uid,
                    .gid = options.root_gid,
                    .atime = now,
                    .mtime = now,
                    .ctime = now};
}

}  // namespace

Namespace::Namespace(const Options& options, absl::Time now)
    : tree_(RootAttributes(options, now), events_, interfaces_),
      views_(tree_),
      attributes_(tree_, interfaces_, options.network_defaults, options.limits),
      state_(tree_, attributes_, networks_, interfaces_) {}

absl::Status Namespace::Saved(absl::Status status) {
  if (status.ok()) state_.Save();
  return status;
}

absl::StatusOr<Attributes> Namespace::Lookup(ino_t parent, absl::string_view name,
                                             const OperationContext& context) {
  if (absl::Status length = CheckNameLength(name); !length.ok()) return length;
  absl::MutexLock lock(&mu_);
  if (IsVirtual(parent) || IsReservedName(parent, name)) return views_.Lookup(parent, name);
  return tree_.Lookup(parent, name, context);
}

void Namespace::Forget(ino_t ino, uint64_t count) {
  absl::MutexLock lock(&mu_);
  tree_.Forget(ino, count);
}

absl::StatusOr<Attributes> Namespace::GetAttributes(ino_t ino) const {
  absl::MutexLock lock(&mu_);
  if (IsVirtual(ino)) return views_.GetAttributes(ino);
  return tree_.GetAttributes(ino);
}

absl::StatusOr<Attributes> Namespace::SetAttributes(ino_t ino, const AttributeChanges& changes,
                                                    const OperationContext& context) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Attributes> attr = tree_.SetAttributes(ino, changes, context);
  if (attr.ok()) state_.Save();
  return attr;
}

absl::StatusOr<Attributes> Namespace::MakeDirectory(ino_t parent, absl::string_view name,
                                                    mode_t mode, const OperationContext& context) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<NamespaceNode*> dir = tree_.PrepareCreate(parent, name, context);
  if (!dir.ok()) return dir.status();
  NamespaceNode& node = tree_.Add(**dir, name, S_IFDIR | (mode & 07777), context);
  state_.Save();
  return NamespaceTree::AttributesOf(node);
}

absl::StatusOr<Attributes> Namespace::MakeNetwork(ino_t parent, absl::string_view name, mode_t mode,
                                                  const OperationContext& context) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<NamespaceNode*> dir = tree_.PrepareCreate(parent, name, context);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<std::shared_ptr<Network>> network =
      networks_.Create(attributes_.InheritedConfig(**dir));
  if (!network.ok()) return network.status();
  NamespaceNode& node = tree_.Add(**dir, name, S_IFREG | (mode & 07777), context);
  node.network = *std::move(network);
  interfaces_.Expose(node.attr.ino, node.network);
  state_.Save();
  return NamespaceTree::AttributesOf(node);
}

absl::StatusOr<Attributes> Namespace::MakeSymlink(ino_t parent, absl::string_view name,
                                                  absl::string_view target,
                                                  const OperationContext& context) {
  if (target.empty() || target.size() >= PATH_MAX) {
    return ErrnoError(target.empty() ? ENOENT : ENAMETOOLONG, "bad symlink target");
  }
  absl::MutexLock lock(&mu_);
  absl::StatusOr<NamespaceNode*> dir = tree_.PrepareCreate(parent, name, context);
  if (!dir.ok()) return dir.status();
  NamespaceNode& node = tree_.Add(**dir, name, S_IFLNK | 0777, context);
  node.target = std::string(target);
  node.attr.size = static_cast<off_t>(target.size());
  state_.Save();
  return NamespaceTree::AttributesOf(node);
}

absl::StatusOr<std::string> Namespace::ReadLink(ino_t ino) const {
  absl::MutexLock lock(&mu_);
  return tree_.ReadLink(ino);
}

absl::Status Namespace::Unlink(ino_t parent, absl::string_view name,
                               const OperationContext& context) {
  absl::MutexLock lock(&mu_);
  return Saved(tree_.Remove(parent, name, NamespaceTree::EntryType::kNonDirectory, context));
}

absl::Status Namespace::RemoveDirectory(ino_t parent, absl::string_view name,
                                        const OperationContext& context) {
  absl::MutexLock lock(&mu_);
  return Saved(tree_.Remove(parent, name, NamespaceTree::EntryType::kDirectory, context));
}

absl::Status Namespace::Rename(ino_t parent, absl::string_view name, ino_t new_parent,
                               absl::string_view new_name, unsigned int flags,
                               const OperationContext& context) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<NamespaceTree::Outcome> renamed =
      tree_.Rename(parent, name, new_parent, new_name, flags, context);
  if (!renamed.ok()) return renamed.status();
  if (*renamed == NamespaceTree::Outcome::kChanged) state_.Save();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DirectoryEntry>> Namespace::ReadDirectory(
    ino_t ino, const OperationContext& context) const {
  absl::MutexLock lock(&mu_);
  if (IsMirror(ino)) return views_.ReadDirectory(ino, context);
  return tree_.ReadDirectory(ino, context);
}

absl::Status Namespace::CheckAccess(ino_t ino, int mask, const OperationContext& context) const {
  absl::MutexLock lock(&mu_);
  if (IsVirtual(ino)) return views_.CheckAccess(ino, mask, context);
  return tree_.CheckAccess(ino, mask, context);
}

size_t Namespace::node_count() const {
  absl::MutexLock lock(&mu_);
  return tree_.size();
}

absl::StatusOr<std::shared_ptr<Network>> Namespace::OpenNetwork(
    ino_t ino, int mask, const OperationContext& context) const {
  absl::MutexLock lock(&mu_);
  return tree_.OpenNetwork(ino, mask, context);
}

absl::StatusOr<std::shared_ptr<Network>> Namespace::OpenMonitor(
    ino_t ino, const OperationContext& context) const {
  absl::MutexLock lock(&mu_);
  return views_.OpenMonitor(ino, context);
}

void Namespace::Tick(absl::Time now) {
  std::vector<std::shared_ptr<Network>> networks;
  {
    absl::MutexLock lock(&mu_);
    // An interface deleted behind the daemon's back leaves the state file at once.
    if (interfaces_.TakeLosses()) state_.Save();
    networks = networks_.Live();
  }
  const NamespaceNetworks::EventsByNetwork events = NamespaceNetworks::TickAll(networks, now);
  if (events.empty() || !events_.HasReaders()) return;
  absl::MutexLock lock(&mu_);
  tree_.ForEach([&](const NamespaceNode& node) {
    if (!node.network) return;
    auto it = events.find(node.network.get());
    if (it == events.end()) return;
    for (const PolicyEvent& event : it->second) {
      tree_.Publish(node, event.kind, event.details, now);
    }
  });
}

absl::StatusOr<std::unique_ptr<Port>> Namespace::SubscribeEvents(const OperationContext& context,
                                                                 PortOwner owner) {
  return events_.Subscribe(context.who, std::move(owner), context.now);
}

void Namespace::PublishEvent(ino_t ino, absl::string_view kind, absl::string_view details,
                             absl::Time now) {
  if (!events_.HasReaders()) return;
  absl::MutexLock lock(&mu_);
  if (const NamespaceNode* node = tree_.Find(ino)) tree_.Publish(*node, kind, details, now);
}

absl::StatusOr<std::string> Namespace::GetAttribute(ino_t ino, absl::string_view name,
                                                    absl::Time now) const {
  absl::MutexLock lock(&mu_);
  return attributes_.Get(ino, name, now);
}

absl::StatusOr<std::vector<std::string>> Namespace::ListAttributes(ino_t ino) const {
  absl::MutexLock lock(&mu_);
  return attributes_.List(ino);
}

absl::Status Namespace::SetAttribute(ino_t ino, absl::string_view name, absl::string_view value,
                                     const OperationContext& context) {
  absl::MutexLock lock(&mu_);
  return Saved(attributes_.Set(ino, name, value, context));
}

absl::Status Namespace::RemoveAttribute(ino_t ino, absl::string_view name,
                                        const OperationContext& context) {
  absl::MutexLock lock(&mu_);
  return Saved(attributes_.Remove(ino, name, context));
}

void Namespace::SetLimits(const SettingLimits& limits) {
  absl::MutexLock lock(&mu_);
  attributes_.SetLimits(limits);
}

void Namespace::SetInterfaceBackend(InterfaceBackend* backend) {
  absl::MutexLock lock(&mu_);
  interfaces_.set_backend(backend);
}

absl::Status Namespace::Restore(const std::vector<StateEntry>& entries, absl::Time now) {
  absl::MutexLock lock(&mu_);
  absl::Status restored = state_.Restore(entries, now);
  ExposeAllLocked();
  return restored;
}

void Namespace::SetFaceBackend(FaceBackend* faces) {
  absl::MutexLock lock(&mu_);
  interfaces_.set_face_backend(faces);
  ExposeAllLocked();
}

void Namespace::ExposeAllLocked() {
  tree_.ForEach([this](const NamespaceNode& node) {
    if (node.network && node.attr.nlink > 0) interfaces_.Expose(node.attr.ino, node.network);
  });
}

absl::StatusOr<Attributes> Namespace::BindFace(ino_t parent, absl::string_view name, pid_t tid) {
  absl::MutexLock lock(&mu_);
  return views_.Bind(parent, name, interfaces_.face_backend(), tid);
}

absl::StatusOr<std::string> Namespace::FacePath(ino_t ino) const {
  absl::MutexLock lock(&mu_);
  const NamespaceNode* node = tree_.Find(ino);
  if (node == nullptr || !node->network || node->attr.nlink == 0) {
    return ErrnoError(ENOENT, "the network has no name");
  }
  return tree_.PathOf(*node).substr(1);
}

void Namespace::SetStateSink(StateSink* sink) {
  absl::MutexLock lock(&mu_);
  state_.set_sink(sink);
}

std::vector<StateEntry> Namespace::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return state_.Snapshot();
}

}  // namespace ipnfs
