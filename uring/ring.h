// Ring: one io_uring instance, the context of an event loop (after liburing's examples and QEMU's
// fdmon-io_uring): create/destroy, a GetSqe() that submits when the queue is full, and completions
// handed over as (tag, result) with errors as -errno.
//
// One error policy for every user: a failure to submit or wait that is not transient (EINTR,
// EAGAIN, EBUSY) is a broken invariant and aborts; errors of single requests come back in their
// completions, for the caller to handle.
//
// Only the thread that created the ring may use it (checked; the kernel is told so too with
// IORING_SETUP_SINGLE_ISSUER where it knows that flag). Move-only through unique_ptr.
#ifndef IPNFS_URING_RING_H_
#define IPNFS_URING_RING_H_

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "uring/completion_tag.h"

namespace ipnfs {

// The size of a submission entry: 128 bytes for commands that carry more (FUSE's URING_CMD).
enum class SqeSize { kNormal, kLarge };

struct RingOptions {
  unsigned entries = 256;           // Submission entries.
  unsigned completion_entries = 0;  // 0: the kernel's default, twice `entries`.
  SqeSize sqe_size = SqeSize::kNormal;
};

class Ring {
 public:
  // A ring owned by the calling thread. ENOSYS or EPERM when io_uring is unavailable (old kernel,
  // kernel.io_uring_disabled).
  static absl::StatusOr<std::unique_ptr<Ring>> Create(const RingOptions& options);

  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  // The caller makes sure no request is in flight any more: the kernel may still write into the
  // memory of one that is.
  ~Ring();

  // The ring's descriptor: the target of IORING_OP_MSG_RING from another ring.
  int fd() const { return ring_.ring_fd; }

  // A submission entry to prepare and then Tag(). When the queue is full, submits what it holds
  // first. Never null.
  io_uring_sqe* GetSqe();
  // Makes sure the next `count` GetSqe() calls (at most the queue's size) submit nothing in
  // between, submitting what is queued now if fewer entries are free: a chain of linked requests
  // (IOSQE_IO_LINK) then reaches the kernel whole, never cut into two chains.
  void Reserve(unsigned count);
  static void Tag(io_uring_sqe* sqe, const CompletionTag& tag) {
    io_uring_sqe_set_data64(sqe, Encode(tag));
  }

  // Submits what is queued and waits until at least one completion is there (or a signal came);
  // with a `busy_poll` above zero, first peeks that long for one, calling sched_yield between
  // peeks (another thread of this CPU may run: a client whose request then arrives without waking
  // anyone; and the kernel posts completions waiting as task work), before it sleeps.
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
  // Submits what is queued without waiting.
  void Submit();
  // True when a completion came within `busy_poll`.
  bool SpinForCompletion(absl::Duration busy_poll);

  io_uring ring_{};
  std::thread::id owner_;
};

}  // namespace ipnfs

#endif  // IPNFS_URING_RING_H_
