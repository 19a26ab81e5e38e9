// InterfaceBackend: connects networks to kernel network interfaces (taps the daemon creates, and
// existing interfaces it grabs). The core only calls this interface; tap/ implements it.
//
// Each attached interface is one port of its network (owner command "tap:NAME" or "grab:NAME"):
// frames the kernel sends on it enter the network under its policy, frames the policy delivers to
// that port go out on it. Thread-safe: called from FUSE worker threads.
#ifndef IPNFS_CORE_INTERFACE_BACKEND_H_
#define IPNFS_CORE_INTERFACE_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/network.h"

namespace ipnfs {

enum class InterfaceKind {
  kTap,   // A tap interface the backend creates (and deletes when detached).
  kGrab,  // An existing interface: the backend sees every frame it receives and transmits on it.
};

class InterfaceBackend {
 public:
  virtual ~InterfaceBackend() = default;

  // Attaches interface `name` to `network`. Errors: EINVAL for an invalid name (empty, over 15
  // bytes, '/' or white space) and, for kGrab, loopback or a missing interface; EEXIST when the
  // name is taken by an interface that is not this network's tap; EPERM without CAP_NET_ADMIN.
  // Attaching what is already attached to `network` is OK and changes nothing.
  virtual absl::Status Attach(InterfaceKind kind, const std::string& name,
                              const std::shared_ptr<Network>& network) = 0;

  // Detaches `name` from `network` (deleting a tap). ENOENT when it is not attached there.
  virtual absl::Status Detach(InterfaceKind kind, const std::string& name,
                              const Network& network) = 0;

  // The interfaces of `kind` attached to `network` now, sorted. An interface deleted behind the
  // backend's back is no longer listed.
  virtual std::vector<std::string> Attached(InterfaceKind kind, const Network& network) const = 0;

  // How many attached interfaces disappeared behind the backend's back so far (deleted, or gone
  // with their network namespace). When it grows, the namespace saves its state again, so that
  // the state file stops listing them. Any thread.
  virtual uint64_t Losses() const { return 0; }
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_INTERFACE_BACKEND_H_
