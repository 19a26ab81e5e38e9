#include "core/namespace_interfaces.h"

#include <algorithm>
#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "core/errno_status.h"

namespace ipnfs {
namespace {

constexpr int kReattachAttempts = 40;
constexpr absl::Duration kReattachPause = absl::Milliseconds(50);

}  // namespace

absl::string_view NamespaceInterfaces::NameOf(InterfaceKind kind) {
  return kind == InterfaceKind::kTap ? "tap" : "grab";
}

std::optional<InterfaceKind> NamespaceInterfaces::KindOf(absl::string_view name) {
  for (InterfaceKind kind : kKinds) {
    if (name == NameOf(kind)) return kind;
  }
  return std::nullopt;
}

std::vector<std::string> NamespaceInterfaces::SplitNames(absl::string_view value) {
  std::vector<std::string> names;
  for (absl::string_view name : absl::StrSplit(value, ',')) {
    name = absl::StripAsciiWhitespace(name);
    if (!name.empty()) names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::vector<std::string> NamespaceInterfaces::Attached(InterfaceKind kind,
                                                       const Network& network) const {
  if (backend_ == nullptr) return {};
  return backend_->Attached(kind, network);
}

absl::StatusOr<NamespaceInterfaces::Changes> NamespaceInterfaces::Set(
    InterfaceKind kind, const std::vector<std::string>& wanted,
    const std::shared_ptr<Network>& network) {
  if (backend_ == nullptr) return ErrnoError(ENOTSUP, "this daemon has no interface backend");
  const std::vector<std::string> attached = backend_->Attached(kind, *network);
  Changes changes;
  for (const std::string& name : wanted) {
    if (std::binary_search(attached.begin(), attached.end(), name)) continue;
    if (absl::Status status = backend_->Attach(kind, name, network); !status.ok()) {
      for (const std::string& undo : changes.attached) {
        backend_->Detach(kind, undo, *network).IgnoreError();
      }
      return status;
    }
    changes.attached.push_back(name);
  }
  for (const std::string& name : attached) {
    if (std::binary_search(wanted.begin(), wanted.end(), name)) continue;
    backend_->Detach(kind, name, *network).IgnoreError();
    changes.detached.push_back(name);
  }
  return changes;
}

void NamespaceInterfaces::DetachAll(const Network& network) {
  if (backend_ == nullptr) return;
  for (InterfaceKind kind : kKinds) {
    for (const std::string& name : backend_->Attached(kind, network)) {
      backend_->Detach(kind, name, network).IgnoreError();
    }
  }
}

absl::Status NamespaceInterfaces::Reattach(InterfaceKind kind, const std::string& name,
                                           const std::shared_ptr<Network>& network) {
  absl::Status attached = absl::UnavailableError("no interface backend");
  for (int attempt = 0; backend_ != nullptr && attempt < kReattachAttempts; ++attempt) {
    attached = backend_->Attach(kind, name, network);
    if (StatusToErrno(attached) != EEXIST) break;
    absl::SleepFor(kReattachPause);
  }
  return attached;
}

bool NamespaceInterfaces::TakeLosses() {
  if (backend_ == nullptr || backend_->Losses() == seen_losses_) return false;
  seen_losses_ = backend_->Losses();
  return true;
}

}  // namespace ipnfs
