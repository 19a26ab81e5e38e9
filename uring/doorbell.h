// Doorbell: tells an event loop that one port has packets queued for it, through the loop's
// Wakeup; DoorbellWaiter: the poll waiter a loop registers on a port to ring it.
//
// A doorbell rung on the loop's own thread (a frame the loop itself sent into a network) does not
// touch the eventfd: the loop looks at every doorbell after each batch of completions. Thread-safe.
#ifndef IPNFS_URING_DOORBELL_H_
#define IPNFS_URING_DOORBELL_H_

#include <atomic>
#include <memory>
#include <utility>

#include "core/waiters.h"
#include "uring/wakeup.h"

namespace ipnfs {

// Shared by the loop's object for the port (a link, a connection) and the poll waiters registered
// on its port, which may outlive that object.
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
  // waiter registered on the port has not seen a packet queued.
  bool Watching() const { return watching_.load(std::memory_order_acquire); }
  void StartWatching() { watching_.store(true, std::memory_order_release); }

 private:
  const std::shared_ptr<const Wakeup> wakeup_;
  std::atomic<bool> pending_{false};
  std::atomic<bool> watching_{false};
};

// The poll waiter a loop registers on a port: rings the doorbell when a packet is queued.
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

#endif  // IPNFS_URING_DOORBELL_H_
