// Wakeup: the eventfd that wakes an event loop.
//
// The loop keeps a read armed on the eventfd in its ring. Ring() may be called from any thread,
// also after the loop is gone (the descriptor lives as long as the last holder): it never blocks.
// The loop thread marks itself with ServeOnThisThread(), so that work it gives itself (a frame
// the loop itself sent into a network) need not touch the eventfd: see Doorbell.
#ifndef IPNFS_URING_WAKEUP_H_
#define IPNFS_URING_WAKEUP_H_

#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "uring/scoped_fd.h"

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
  // True on the loop thread (which looks at its work after each batch anyway, so need not be
  // woken).
  bool Serving() const;

 private:
  explicit Wakeup(ScopedFd fd) : fd_(std::move(fd)) {}
  ScopedFd fd_;
};

}  // namespace ipnfs

#endif  // IPNFS_URING_WAKEUP_H_
