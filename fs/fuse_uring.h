// FuseUring: serves FUSE requests that the kernel sends over io_uring (FUSE-over-io_uring,
// fs/fuse_uring_abi.h) instead of read()/write() on /dev/fuse.
//
// One queue per possible CPU, as the kernel requires: each queue is a handler on its own
// uring::EventLoop, whose ring and thread are pinned to its CPU, so a request is served on the CPU
// of the process that made it. A blocked read holds its ring entry until it is answered, so each
// queue keeps more entries waiting in the kernel than there are parked requests in all queues:
// parked requests never starve new ones.
//
// Threads: each queue's thread is the only one that touches its ring (submits and reaps).
// Reply() may be called from any thread: on the queue's own thread the commit is queued
// directly, from another thread it is handed over and the queue thread is woken. Start() and
// Stop() run on the thread that owns the FuseUring. Requests the kernel still sends through
// /dev/fuse (INIT, FORGET, INTERRUPT, and everything until every queue has registered) are not
// ours: the classic loop serves them.
#ifndef IPNFS_FS_FUSE_URING_H_
#define IPNFS_FS_FUSE_URING_H_

#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ipnfs {

class FuseUringQueue;
struct FuseUringEntry;

class FuseUring {
 public:
  // Serves one request on a queue thread: `request` holds it as /dev/fuse would deliver it
  // (fuse_in_header first), valid until the call returns. Must reply (now or later) through
  // Reply().
  using Dispatch = std::function<void(void* request, size_t size)>;

  struct Options {
    int fuse_fd = -1;         // The session's /dev/fuse descriptor; borrowed.
    size_t payload_size = 0;  // At least the kernel's largest request/reply body.
    // Spin this long for the next request before sleeping (0: sleep at once).
    absl::Duration busy_poll = absl::ZeroDuration();
  };

  // Starts one queue per possible CPU; they register with the kernel in the background. Fails
  // when a ring or a thread cannot be created.
  static absl::StatusOr<std::unique_ptr<FuseUring>> Start(const Options& options,
                                                          Dispatch dispatch);
  ~FuseUring();  // Stop().
  FuseUring(const FuseUring&) = delete;
  FuseUring& operator=(const FuseUring&) = delete;

  // Sends a reply (iov[0] is the fuse_out_header, the rest its body) if its request came
  // through a ring; returns false, sending nothing, when it did not. Any thread.
  bool Reply(const struct iovec* iov, int count);

  // Stops the queue threads and closes the rings. Requests still unanswered are answered by the
  // kernel (ENOTCONN) when the connection ends. Idempotent.
  void Stop();

  int queue_count() const { return static_cast<int>(queues_.size()); }

 private:
  friend class FuseUringQueue;
  FuseUring(const Options& options, Dispatch dispatch);

  // Entries each queue keeps waiting in the kernel beyond the requests parked in all queues. The
  // kernel hands a request to a waiting entry or queues it, and only a commit on that queue takes
  // a queued request (registering an entry does not): were every entry held by a parked request,
  // queued requests would wait, uninterruptible, until some other request on that CPU ended.
  // Each parked request, once answered, may come back on any CPU: hence "parked in all queues".
  static constexpr int64_t kSpare = 32;

  // Queue threads: remember which entry answers `unique`, until Reply() takes it.
  void Track(uint64_t unique, FuseUringEntry* entry);

  const Options options_;
  const Dispatch dispatch_;
  std::vector<std::unique_ptr<FuseUringQueue>> queues_;
  absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, FuseUringEntry*> in_flight_ ABSL_GUARDED_BY(mu_);
  // Requests dispatched and not answered yet (in_flight_'s size), and its value when the queues
  // were last woken to grow.
  std::atomic<int64_t> parked_{0};
  std::atomic<int64_t> announced_{0};
  std::atomic<bool> stopped_{false};
};

// The number of queues the kernel expects: one per possible CPU (/sys/devices/system/cpu/possible).
int PossibleCpuCount();

// The number of CPU slots a kernel CPU list ("0-1", "0-3,8") spans: its highest CPU + 1; 0 when it
// names none.
int CpuListSlots(absl::string_view list);

}  // namespace ipnfs

#endif  // IPNFS_FS_FUSE_URING_H_
