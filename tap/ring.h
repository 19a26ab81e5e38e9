// Ring: one io_uring instance, the context of the event loop (after liburing's examples and
// QEMU's fdmon-io_uring): create/destroy, a GetSqe() that submits when the queue is full, and
// completions handed over as (tag, result) with errors as -errno.
//
// Only the thread that created the ring may use it (checked; the kernel is told so too with
// IORING_SETUP_SINGLE_ISSUER where it knows that flag). Move-only through unique_ptr.
#ifndef IPNFS_TAP_RING_H_
#define IPNFS_TAP_RING_H_

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tap/completion_tag.h"

namespace ipnfs {

// Busy polling: peeks at `ring`'s completion queue for up to `busy_poll`, calling sched_yield
// between peeks (another thread of this CPU may run: a client whose request then arrives without
// waking anyone; and the kernel posts completions waiting as task work). True when a completion is
// there. The caller submits first.
bool SpinForCompletion(io_uring& ring, absl::Duration busy_poll);

class Ring {
 public:
  // A ring with `entries` submission entries, owned by the calling thread. ENOSYS or EPERM when
  // io_uring is unavailable (old kernel, kernel.io_uring_disabled).
  static absl::StatusOr<std::unique_ptr<Ring>> Create(unsigned entries);

  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  // The caller makes sure no request is in flight any more: the kernel may still write into the
  // memory of one that is.
  ~Ring();

  // A submission entry to prepare and then Tag(). When the queue is full, submits what it holds
  // first. Never null.
  io_uring_sqe* GetSqe();
  static void Tag(io_uring_sqe* sqe, const CompletionTag& tag) {
    io_uring_sqe_set_data64(sqe, Encode(tag));
  }

  // Submits what is queued and waits until at least one completion is there (or a signal came);
  // with a `busy_poll` above zero, spins that long for one (yielding the CPU to other runnable
  // threads) before it sleeps in the kernel.
  void SubmitAndWait(absl::Duration busy_poll = absl::ZeroDuration());

  // Hands every completion there now to handle(tag, result), oldest first, and consumes them.
  template <typename Handle>
  void ForEachCompletion(Handle&& handle) {
    CheckOwner();
    io_uring_cqe* cqe;
    while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
      const CompletionTag tag = Decode(io_uring_cqe_get_data64(cqe));
      const int result = cqe->res;
      io_uring_cqe_seen(&ring_, cqe);  // Before handling: the handler may submit and wait.
      handle(tag, result);
    }
  }

 private:
  Ring() = default;
  void CheckOwner() const;

  io_uring ring_{};
  std::thread::id owner_;
};

}  // namespace ipnfs

#endif  // IPNFS_TAP_RING_H_
