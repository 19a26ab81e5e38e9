// Namespace: persistence (snapshot after every change, restore at start-up).
#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "core/errno_status.h"
#include "core/log.h"
#include "core/namespace.h"
#include "core/namespace_node.h"

namespace ipnfs {

std::string Namespace::PathOf(const Node& node) const {
  std::vector<std::string> names;
  for (const Node* at = &node; at->attr.ino != kRootIno;) {
    const Node* parent = Find(at->parent);
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

void Namespace::SnapshotLocked(const Node& node, std::vector<StateEntry>* entries) const {
  StateEntry entry;
  entry.path = PathOf(node);
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
    if (backend_ != nullptr) {
      for (auto [kind, name] : {std::pair{InterfaceKind::kTap, "tap"},
                                std::pair{InterfaceKind::kGrab, "grab"}}) {
        std::vector<std::string> names = backend_->Attached(kind, *node.network);
        if (!names.empty()) entry.settings.emplace_back(name, absl::StrJoin(names, ","));
      }
    }
  } else {
    entry.type = StateEntry::Type::kSymlink;
    entry.target = node.target;
  }
  entries->push_back(std::move(entry));
  for (const auto& [name, ino] : node.children) SnapshotLocked(*Find(ino), entries);
}

std::vector<StateEntry> Namespace::Snapshot() const {
  absl::MutexLock lock(&mu_);
  std::vector<StateEntry> entries;
  SnapshotLocked(*Find(kRootIno), &entries);
  return entries;
}

void Namespace::SetStateSink(StateSink* sink) {
  absl::MutexLock lock(&mu_);
  sink_ = sink;
}

void Namespace::PersistLocked() {
  if (sink_ == nullptr) return;
  std::vector<StateEntry> entries;
  SnapshotLocked(*Find(kRootIno), &entries);
  if (absl::Status saved = sink_->Save(EncodeState(entries)); !saved.ok()) {
    IPN_LOG(ERROR) << "cannot save the namespace state: " << saved.message();
  }
}

void Namespace::ReattachLocked(
    const std::string& path, Node& node,
    const std::vector<std::pair<InterfaceKind, std::string>>& interfaces) {
  for (const auto& [kind, name] : interfaces) {
    absl::Status attached = absl::UnavailableError("no interface backend");
    // A tap of a daemon killed a moment ago may still exist while the kernel tears it down.
    for (int attempt = 0; backend_ != nullptr && attempt < 40; ++attempt) {
      attached = backend_->Attach(kind, name, node.network);
      if (StatusToErrno(attached) != EEXIST) break;
      absl::SleepFor(absl::Milliseconds(50));
    }
    // An interface that cannot come back must not cost the rest of the configuration.
    if (!attached.ok()) {
      IPN_LOG(WARNING) << "cannot re-attach " << name << " to " << path << ": "
                       << attached.message();
    }
  }
}

absl::Status Namespace::Restore(const std::vector<StateEntry>& entries, absl::Time now) {
  absl::MutexLock lock(&mu_);
  Node& root = *Find(kRootIno);
  if (!root.children.empty()) return absl::FailedPreconditionError("namespace is not empty");
  std::vector<std::pair<Node*, const StateEntry*>> restored;
  for (const StateEntry& entry : entries) {
    auto bad = [&entry](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("state entry ", entry.path, ": ", why));
    };
    Node* node = &root;
    if (entry.path != "/") {
      std::vector<std::string> names = absl::StrSplit(entry.path.substr(1), '/');
      Node* dir = &root;
      for (size_t i = 0; i + 1 < names.size(); ++i) {
        auto it = dir->children.find(names[i]);
        if (it == dir->children.end() || !Find(it->second)->is_directory()) {
          return bad("its directory is missing");
        }
        dir = Find(it->second);
      }
      if (!CheckEntryName(names.back()).ok() || dir->children.contains(names.back())) {
        return bad("bad or repeated name");
      }
      mode_t type = S_IFDIR;
      if (entry.type == StateEntry::Type::kNetwork) type = S_IFREG;
      if (entry.type == StateEntry::Type::kSymlink) type = S_IFLNK;
      OperationContext context{.who = {.uid = entry.uid, .gid = entry.gid, .groups = {}},
                               .now = now};
      node = &AddNode(*dir, names.back(), type | entry.mode, context);
      node->lookups = 0;  // The kernel has not seen it yet.
    } else if (entry.type != StateEntry::Type::kDirectory) {
      return bad("the root must be a directory");
    }
    node->attr.mode = (node->attr.mode & S_IFMT) | (entry.mode & 07777);
    node->attr.uid = entry.uid;
    node->attr.gid = entry.gid;
    if (entry.type == StateEntry::Type::kSymlink) {
      node->target = entry.target;
      node->attr.size = static_cast<off_t>(entry.target.size());
    }
    NetworkConfig config = options_.network_defaults;
    std::vector<std::pair<InterfaceKind, std::string>> interfaces;
    for (const auto& [name, value] : entry.settings) {
      if (entry.type == StateEntry::Type::kNetwork && (name == "tap" || name == "grab")) {
        const InterfaceKind kind = name == "tap" ? InterfaceKind::kTap : InterfaceKind::kGrab;
        for (std::string& interface : SplitInterfaceNames(value)) {
          interfaces.emplace_back(kind, std::move(interface));
        }
        continue;
      }
      if (absl::Status valid = ApplySetting(name, value, options_.limits, &config); !valid.ok()) {
        return bad(valid.message());
      }
      if (entry.type == StateEntry::Type::kDirectory) node->defaults[name] = value;
    }
    if (entry.type == StateEntry::Type::kNetwork) {
      absl::StatusOr<std::shared_ptr<Network>> network = CreateNetwork(config);
      if (!network.ok()) return bad(network.status().message());
      node->network = *std::move(network);
      ReattachLocked(entry.path, *node, interfaces);
    }
    restored.emplace_back(node, &entry);
  }
  // Last, as adding a child touches its directory's times.
  for (auto& [node, entry] : restored) {
    node->attr.atime = entry->atime;
    node->attr.mtime = entry->mtime;
    node->attr.ctime = entry->ctime;
  }
  return absl::OkStatus();
}

}  // namespace ipnfs
