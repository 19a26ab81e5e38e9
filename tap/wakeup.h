// Wakeup: the eventfd that wakes the event loop, and the Doorbell a port rings through it.
//
// The loop keeps a read armed on the eventfd in its ring. Ring() may be called from any thread,
// also after the loop is gone (the descriptor lives as long as the last holder): it never blocks.
// A doorbell rung on the loop's own thread (a frame the loop itself sent into a network) does not
// touch the eventfd: the loop looks at every doorbell after each batch of completions.
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

  // Called by the loop thread once: from then on Serving() is true on that thread only.
  void ServeOnThisThread() const;
  // True on the loop thread (which looks at the doorbells anyway, so need not be woken).
  bool Serving() const;

 private:
  explicit Wakeup(ScopedFd fd) : fd_(std::move(fd)) {}
  ScopedFd fd_;
};

// Tells the loop that one port has frames queued for its interface. Shared by the loop's link and
// the poll waiters registered on its port, which may outlive the link.
class Doorbell {
 public:
  explicit Doorbell(std::shared_ptr<const Wakeup> wakeup) : wakeup_(std::move(wakeup)) {}

  // Any thread: marks the doorbell and wakes the loop, unless it was marked already (the loop
  // has not answered yet, so it will look) or this is the loop's own thread.
  void Ring() {
    watching_.store(false, std::memory_order_release);
    if (pending_.exchange(true, std::memory_order_acq_rel)) return;
    if (!wakeup_->Serving()) wakeup_->Ring();
  }
  // Loop thread: true when rung since the last call.
  bool Answer() { return pending_.exchange(false, std::memory_order_acq_rel); }

  // True from the creation of a DoorbellWaiter until the doorbell next rings: while it is true, a
  // waiter registered on the port has not seen a frame queued.
  bool Watching() const { return watching_.load(std::memory_order_acquire); }
  void StartWatching() { watching_.store(true, std::memory_order_release); }

 private:
  const std::shared_ptr<const Wakeup> wakeup_;
  std::atomic<bool> pending_{false};
  std::atomic<bool> watching_{false};
};

// The poll waiter the loop registers on a port: rings the doorbell when a frame is queued.
class DoorbellWaiter final : public PollWaiter {
 public:
  // Marks `doorbell` as watching (before the waiter is registered, so that a Notify() right after
  // registration is not overwritten).
  explicit DoorbellWaiter(std::shared_ptr<Doorbell> doorbell) : doorbell_(std::move(doorbell)) {
    doorbell_->StartWatching();
  }
  void Notify() override { doorbell_->Ring(); }

 private:
  const std::shared_ptr<Doorbell> doorbell_;
};

}  // namespace ipnfs

#endif  // IPNFS_TAP_WAKEUP_H_
