// Wakeup: the eventfd that wakes the event loop, and the Doorbell a port rings through it.
//
// The loop keeps a read armed on the eventfd in its ring. Ring() may be called from any thread,
// also after the loop is gone (the descriptor lives as long as the last holder): it never blocks.
#ifndef IPNFS_TAP_WAKEUP_H_
#define IPNFS_TAP_WAKEUP_H_

#include <atomic>
#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "core/waiters.h"
#include "tap/scoped_fd.h"

namespace ipnfs {

class Wakeup {
 public:
  // A non-blocking eventfd.
  static absl::StatusOr<std::shared_ptr<Wakeup>> Create();

  int fd() const { return fd_.get(); }
  // Makes the eventfd readable. Thread-safe, never blocks.
  void Ring() const;

 private:
  explicit Wakeup(ScopedFd fd) : fd_(std::move(fd)) {}
  ScopedFd fd_;
};

// Tells the loop that one port has frames queued for its interface. Shared by the loop's link and
// the poll waiters registered on its port, which may outlive the link.
class Doorbell {
 public:
  explicit Doorbell(std::shared_ptr<const Wakeup> wakeup) : wakeup_(std::move(wakeup)) {}

  // Any thread: marks the doorbell and wakes the loop.
  void Ring() {
    pending_.store(true, std::memory_order_release);
    wakeup_->Ring();
  }
  // Loop thread: true when rung since the last call.
  bool Answer() { return pending_.exchange(false, std::memory_order_acq_rel); }

 private:
  const std::shared_ptr<const Wakeup> wakeup_;
  std::atomic<bool> pending_{false};
};

// The poll waiter the loop registers on a port: rings the doorbell when a frame is queued.
class DoorbellWaiter final : public PollWaiter {
 public:
  explicit DoorbellWaiter(std::shared_ptr<Doorbell> doorbell) : doorbell_(std::move(doorbell)) {}
  void Notify() override { doorbell_->Ring(); }

 private:
  const std::shared_ptr<Doorbell> doorbell_;
};

}  // namespace ipnfs

#endif  // IPNFS_TAP_WAKEUP_H_
