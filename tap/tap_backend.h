// TapBackend: the InterfaceBackend that connects networks to kernel interfaces: tap interfaces it
// creates (InterfaceKind::kTap) and existing interfaces it grabs with a packet socket (kGrab).
//
// Each attached interface is one port of its network, owned by "tap:NAME" or "grab:NAME". One
// event-loop thread (an EventLoop with the LinkLoop handler) moves every interface's frames with
// io_uring; the methods here
// only open or close the interface and hand it over, so they never wait for frames. An interface
// that disappears behind the backend's back (deleted, or a grabbed one moved away) is detached by
// itself, with a log line. Interfaces are created in the network namespace of the thread that
// calls Attach. Needs CAP_NET_ADMIN. Thread-safe; must not be called from the loop's thread.
#ifndef IPNFS_TAP_TAP_BACKEND_H_
#define IPNFS_TAP_TAP_BACKEND_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/interface_backend.h"
#include "core/network.h"
#include "tap/link_counters.h"
#include "tap/link_loop.h"
#include "uring/event_loop.h"

namespace ipnfs {

class TapBackend final : public InterfaceBackend {
 public:
  // Starts the event loop. Errors: io_uring unavailable (ENOSYS, EPERM), no eventfd.
  static absl::StatusOr<std::unique_ptr<TapBackend>> Create(LinkLoopOptions options = {});

  TapBackend(const TapBackend&) = delete;
  TapBackend& operator=(const TapBackend&) = delete;
  // Detaches every interface (deleting the taps) and stops the event loop.
  ~TapBackend() override;

  // See InterfaceBackend. Frames pass up to the network's MTU at attach time (at least 1518 bytes,
  // at most 65536); larger ones are dropped and counted. Taps also pass GSO packets of up to
  // 64 KiB whatever the MTU, which applies to their segments (see Port::Send with an Offload). One
  // interface name is attached once in the whole backend: EEXIST for a name attached to another
  // network or as the other kind.
  absl::Status Attach(InterfaceKind kind, const std::string& name,
                      const std::shared_ptr<Network>& network) override;
  absl::Status Detach(InterfaceKind kind, const std::string& name, const Network& network) override;
  std::vector<std::string> Attached(InterfaceKind kind, const Network& network) const override;

  // The counters of attached interface `name` now. ENOENT when it is not attached.
  absl::StatusOr<InterfaceCounters> Counters(const std::string& name) const;

  uint64_t Losses() const override { return losses_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    InterfaceKind kind;
    const Network* network;  // Kept alive by the interface's port.
    uint64_t id;
    std::shared_ptr<LinkCounters> counters;
  };

  TapBackend() = default;
  // Loop thread: the interface of link `id` disappeared and its link is closed.
  void Lose(uint64_t id);
  // Drops link `id`'s entry.
  void Forget(uint64_t id);

  std::atomic<uint64_t> losses_{0};

  absl::Mutex admin_mu_;  // Serialises Attach and Detach: one check-then-act at a time.
  uint64_t next_id_ ABSL_GUARDED_BY(admin_mu_) = 1;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // Last: destroyed first, while what their callbacks use is still there. The destructor stops
  // the event loop before the handler goes.
  std::unique_ptr<LinkLoop> links_;
  std::unique_ptr<EventLoop> loop_;
};

}  // namespace ipnfs

#endif  // IPNFS_TAP_TAP_BACKEND_H_
