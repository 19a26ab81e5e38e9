#include "core/namespace_state.h"

#include <sys/stat.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/log.h"
#include "core/settings.h"

namespace ipnfs {
namespace {

mode_t FileTypeOf(StateEntry::Type type) {
  switch (type) {
    case StateEntry::Type::kNetwork:
      return S_IFREG;
    case StateEntry::Type::kSymlink:
      return S_IFLNK;
    case StateEntry::Type::kDirectory:
      break;
  }
  return S_IFDIR;
}

}  // namespace

std::vector<StateEntry> NamespaceState::Snapshot() const {
  std::vector<StateEntry> entries;
  SnapshotOf(tree_.root(), &entries);
  return entries;
}

void NamespaceState::SnapshotOf(const NamespaceNode& node, std::vector<StateEntry>* entries) const {
  StateEntry entry;
  entry.path = tree_.PathOf(node);
  entry.mode = node.attr.mode & 07777;
  entry.uid = node.attr.uid;
  entry.gid = node.attr.gid;
  entry.atime = node.attr.atime;
  entry.mtime = node.attr.mtime;
  entry.ctime = node.attr.ctime;
  if (node.is_directory()) {
    entry.type = StateEntry::Type::kDirectory;
    entry.settings.assign(node.defaults.begin(), node.defaults.end());
  } else if (node.network) {
    entry.type = StateEntry::Type::kNetwork;
    const NetworkConfig config = node.network->config();
    for (absl::string_view setting : SettingNames()) {
      entry.settings.emplace_back(std::string(setting), FormatSetting(setting, config));
    }
    for (InterfaceKind kind : NamespaceInterfaces::kKinds) {
      std::vector<std::string> names = interfaces_.Attached(kind, *node.network);
      if (names.empty()) continue;
      entry.settings.emplace_back(NamespaceInterfaces::NameOf(kind), absl::StrJoin(names, ","));
    }
  } else {
    entry.type = StateEntry::Type::kSymlink;
    entry.target = node.target;
  }
  entries->push_back(std::move(entry));
  for (const auto& [name, ino] : node.children) SnapshotOf(*tree_.Find(ino), entries);
}

void NamespaceState::Save() const {
  if (sink_ == nullptr) return;
  if (absl::Status saved = sink_->Save(EncodeState(Snapshot())); !saved.ok()) {
    IPN_LOG(ERROR) << "cannot save the namespace state: " << saved.message();
  }
}

absl::Status NamespaceState::Restore(const std::vector<StateEntry>& entries, absl::Time now) {
  if (!tree_.root().children.empty()) {
    return absl::FailedPreconditionError("namespace is not empty");
  }
  std::vector<std::pair<NamespaceNode*, const StateEntry*>> restored;
  for (const StateEntry& entry : entries) {
    absl::StatusOr<NamespaceNode*> node = RestoreEntry(entry, now);
    if (!node.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("state entry ", entry.path, ": ", node.status().message()));
    }
    restored.emplace_back(*node, &entry);
  }
  // Last, as adding a child touches its directory's times.
  for (auto& [node, entry] : restored) {
    node->attr.atime = entry->atime;
    node->attr.mtime = entry->mtime;
    node->attr.ctime = entry->ctime;
  }
  return absl::OkStatus();
}

absl::StatusOr<NamespaceNode*> NamespaceState::RestoreEntry(const StateEntry& entry,
                                                            absl::Time now) {
  absl::StatusOr<NamespaceNode*> node = PlaceEntry(entry, now);
  if (!node.ok()) return node.status();
  Attributes& attr = (*node)->attr;
  attr.mode = (attr.mode & S_IFMT) | (entry.mode & 07777);
  attr.uid = entry.uid;
  attr.gid = entry.gid;
  if (entry.type == StateEntry::Type::kSymlink) {
    (*node)->target = entry.target;
    attr.size = static_cast<off_t>(entry.target.size());
  }
  if (absl::Status restored = RestoreSettings(entry, **node); !restored.ok()) return restored;
  return node;
}

absl::StatusOr<NamespaceNode*> NamespaceState::PlaceEntry(const StateEntry& entry, absl::Time now) {
  if (entry.path == "/") {
    if (entry.type != StateEntry::Type::kDirectory) {
      return absl::InvalidArgumentError("the root must be a directory");
    }
    return &tree_.root();
  }
  std::vector<std::string> names = absl::StrSplit(entry.path.substr(1), '/');
  NamespaceNode* dir = &tree_.root();
  for (size_t i = 0; i + 1 < names.size(); ++i) {
    auto it = dir->children.find(names[i]);
    if (it == dir->children.end() || !tree_.Find(it->second)->is_directory()) {
      return absl::InvalidArgumentError("its directory is missing");
    }
    dir = tree_.Find(it->second);
  }
  if (!CheckEntryName(names.back()).ok() || dir->children.contains(names.back())) {
    return absl::InvalidArgumentError("bad or repeated name");
  }
  const OperationContext owner{.who = {.uid = entry.uid, .gid = entry.gid, .groups = {}},
                               .now = now};
  NamespaceNode& node = tree_.Add(*dir, names.back(), FileTypeOf(entry.type) | entry.mode, owner);
  node.lookups = 0;  // The kernel has not seen it yet.
  return &node;
}

absl::Status NamespaceState::RestoreSettings(const StateEntry& entry, NamespaceNode& node) {
  const bool network = entry.type == StateEntry::Type::kNetwork;
  NetworkConfig config = attributes_.defaults();
  std::vector<std::pair<InterfaceKind, std::string>> interfaces;
  for (const auto& [name, value] : entry.settings) {
    if (std::optional<InterfaceKind> kind = NamespaceInterfaces::KindOf(name); kind && network) {
      for (std::string& interface : NamespaceInterfaces::SplitNames(value)) {
        interfaces.emplace_back(*kind, std::move(interface));
      }
      continue;
    }
    if (absl::Status valid = ApplySetting(name, value, attributes_.limits(), &config);
        !valid.ok()) {
      return valid;
    }
    if (entry.type == StateEntry::Type::kDirectory) node.defaults[name] = value;
  }
  if (!network) return absl::OkStatus();
  absl::StatusOr<std::shared_ptr<Network>> created = networks_.Create(config);
  if (!created.ok()) return created.status();
  node.network = *std::move(created);
  for (const auto& [kind, name] : interfaces) {
    // An interface that cannot come back must not cost the rest of the configuration.
    if (absl::Status attached = interfaces_.Reattach(kind, name, node.network); !attached.ok()) {
      IPN_LOG(WARNING) << "cannot re-attach " << name << " to " << entry.path << ": "
                       << attached.message();
    }
  }
  return absl::OkStatus();
}

}  // namespace ipnfs
