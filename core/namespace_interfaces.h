// NamespaceInterfaces: the kernel interfaces attached to the namespace's networks (the attributes
// user.ipn.tap and user.ipn.grab), through the InterfaceBackend the daemon provides.
//
// Borrows the backend, which must outlive the namespace; without one, every network has no
// interfaces and attaching is ENOTSUP. Thread-compatible: the Namespace calls every method with
// its lock held (the backend itself is thread-safe).
#ifndef IPNFS_CORE_NAMESPACE_INTERFACES_H_
#define IPNFS_CORE_NAMESPACE_INTERFACES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/interface_backend.h"
#include "core/network.h"

namespace ipnfs {

class NamespaceInterfaces {
 public:
  // The kinds, and the attribute names (without prefix) that stand for them: "tap" and "grab".
  static constexpr InterfaceKind kKinds[] = {InterfaceKind::kTap, InterfaceKind::kGrab};
  static absl::string_view NameOf(InterfaceKind kind);
  // The kind attribute `name` stands for; nullopt for any other name.
  static std::optional<InterfaceKind> KindOf(absl::string_view name);
  // A list as users write it, "a, b,a", as a set: {"a", "b"} (sorted, no blanks or repeats).
  static std::vector<std::string> SplitNames(absl::string_view value);

  // `backend` (may be null) must outlive the namespace.
  void set_backend(InterfaceBackend* backend) { backend_ = backend; }

  // The interfaces of `kind` attached to `network`, sorted; none without a backend.
  std::vector<std::string> Attached(InterfaceKind kind, const Network& network) const;

  // What Set() changed, in the order it happened (detached first).
  struct Changes {
    std::vector<std::string> detached;
    std::vector<std::string> attached;
  };
  // Attaches and detaches interfaces of `kind` so that exactly `wanted` (a SplitNames() set) are
  // attached to `network`. All or nothing: on an error, what this call attached is detached again
  // and the backend's error is returned. ENOTSUP without a backend.
  absl::StatusOr<Changes> Set(InterfaceKind kind, const std::vector<std::string>& wanted,
                              const std::shared_ptr<Network>& network);

  // Detaches every interface of `network` (a network that loses its name lets them go).
  void DetachAll(const Network& network);

  // Attaches `name` to `network` again at start-up. Waits up to two seconds while the name is
  // taken (EEXIST): the tap of a daemon killed a moment ago may still exist while the kernel tears
  // it down. Unavailable without a backend.
  absl::Status Reattach(InterfaceKind kind, const std::string& name,
                        const std::shared_ptr<Network>& network);

  // True when interfaces disappeared behind the backend's back since the last call that returned
  // true: the state must be saved again so that it stops listing them.
  bool TakeLosses();

 private:
  InterfaceBackend* backend_ = nullptr;
  uint64_t seen_losses_ = 0;  // backend_->Losses() when TakeLosses() last returned true.
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_NAMESPACE_INTERFACES_H_
