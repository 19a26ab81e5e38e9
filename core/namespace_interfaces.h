// NamespaceInterfaces: what connects the namespace's networks beyond their files: the kernel
// interfaces attached to them (the attributes user.ipn.tap and user.ipn.grab), through the
// InterfaceBackend the daemon provides, and their socket faces, through the FaceBackend.
//
// Borrows the backends, which must outlive the namespace; without an interface backend, every
// network has no interfaces and attaching is ENOTSUP; without a face backend, no faces.
// Thread-compatible: the Namespace calls every method with its lock held (the backend itself is
// thread-safe).
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
#include "core/face_backend.h"
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

  // Socket faces. `faces` (may be null) must outlive the namespace.
  void set_face_backend(FaceBackend* faces) { faces_ = faces; }
  const FaceBackend* face_backend() const { return faces_; }
  // Network `ino` has a name (made or restored): its faces appear. Nothing without a backend.
  void Expose(ino_t ino, const std::shared_ptr<Network>& network) {
    if (faces_ != nullptr) faces_->Expose(ino, network);
  }
  // Network `ino` lost its name: its faces go.
  void Withdraw(ino_t ino) {
    if (faces_ != nullptr) faces_->Withdraw(ino);
  }

  // True when interfaces disappeared behind the backend's back since the last call that returned
  // true: the state must be saved again so that it stops listing them.
  bool TakeLosses();

 private:
  InterfaceBackend* backend_ = nullptr;
  FaceBackend* faces_ = nullptr;
  uint64_t seen_losses_ = 0;  // backend_->Losses() when TakeLosses() last returned true.
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_NAMESPACE_INTERFACES_H_
