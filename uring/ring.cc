#include "uring/ring.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/errno_status.h"
#include "core/log.h"

namespace ipnfs {
namespace {

// Results of io_uring_enter that only say "not now": a signal, a full completion queue, memory
// for the moment.
bool Transient(int result) { return result == -EINTR || result == -EAGAIN || result == -EBUSY; }

}  // namespace

absl::StatusOr<std::unique_ptr<Ring>> Ring::Create(const RingOptions& options) {
  std::unique_ptr<Ring> ring(new Ring());
  io_uring_params params{};
  // TASKRUN_FLAG: the ring's flags say when completions wait as task work, and a peek (busy
  // polling) then runs them.
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
                 IORING_SETUP_TASKRUN_FLAG;
  const unsigned required = (options.sqe_size == SqeSize::kLarge ? IORING_SETUP_SQE128 : 0u) |
                            (options.completion_entries > 0 ? IORING_SETUP_CQSIZE : 0u);
  params.flags |= required;
  params.cq_entries = options.completion_entries;
  int result = io_uring_queue_init_params(options.entries, &ring->ring_, &params);
  if (result == -EINVAL) {  // A kernel older than 6.0 does not know every optional flag above.
    params = io_uring_params{};
    params.flags = required;
    params.cq_entries = options.completion_entries;
    result = io_uring_queue_init_params(options.entries, &ring->ring_, &params);
  }
  if (result < 0) {
    return ErrnoError(-result, absl::StrCat("io_uring_queue_init: ", strerror(-result)));
  }
  ring->owner_ = std::this_thread::get_id();
  return ring;
}

Ring::~Ring() {
  if (owner_ != std::thread::id()) io_uring_queue_exit(&ring_);
}

void Ring::CheckOwner() const {
  IPN_CHECK(std::this_thread::get_id() == owner_) << "io_uring used off its owning thread";
}

io_uring_sqe* Ring::GetSqe() {
  CheckOwner();
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    Submit();
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

void Ring::Reserve(unsigned count) {
  CheckOwner();
  count = std::min(count, *ring_.sq.kring_entries);
  while (io_uring_sq_space_left(&ring_) < count) Submit();
}

void Ring::Submit() {
  const int submitted = io_uring_submit(&ring_);
  IPN_CHECK(submitted >= 0 || Transient(submitted)) << "io_uring_submit: " << strerror(-submitted);
}

bool Ring::SpinForCompletion(absl::Duration busy_poll) {
  const absl::Time deadline = absl::Now() + busy_poll;
  io_uring_cqe* cqe;
  while (io_uring_peek_cqe(&ring_, &cqe) != 0) {
    if (absl::Now() >= deadline) return false;
    sched_yield();
  }
  return true;
}

void Ring::SubmitAndWait(absl::Duration busy_poll) {
  CheckOwner();
  if (busy_poll > absl::ZeroDuration()) {
    Submit();
    if (SpinForCompletion(busy_poll)) return;
  }
  const int result = io_uring_submit_and_wait(&ring_, 1);
  IPN_CHECK(result >= 0 || Transient(result)) << "io_uring_submit_and_wait: " << strerror(-result);
}

}  // namespace ipnfs
