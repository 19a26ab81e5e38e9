// UringLoop: the one thread that moves frames between attached interfaces and their networks,
// with one io_uring. The design is described at the top of UringLoop::Run() in uring_loop.cc.
//
// Thread-safe: Add() and Remove() may be called from any thread but the loop's own; they hand a
// command to the loop and wait for its short answer (they never wait for frames).
#ifndef IPNFS_TAP_URING_LOOP_H_
#define IPNFS_TAP_URING_LOOP_H_

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/port.h"
#include "tap/attached_link.h"
#include "tap/completion_tag.h"
#include "tap/link.h"
#include "tap/link_counters.h"
#include "tap/ring.h"
#include "tap/wakeup.h"

namespace ipnfs {

struct UringLoopOptions {
  unsigned ring_entries = 256;
  SlotCounts slots;
  // How often the loop checks that every attached interface still exists (a fallback: a deleted
  // interface is normally noticed at once, by its failing read).
  absl::Duration check_interval = absl::Seconds(1);
  // When above zero, the loop spins this long for the next completion before it sleeps
  // (--busy_poll_us): lower latency for a CPU's worth of spinning.
  absl::Duration busy_poll = absl::ZeroDuration();
};

class UringLoop {
 public:
  // Called on the loop thread once link `id` was closed because its interface disappeared.
  using GoneCallback = std::function<void(uint64_t id)>;

  // Starts the loop thread and creates its ring there. Errors: io_uring unavailable, no eventfd.
  static absl::StatusOr<std::unique_ptr<UringLoop>> Create(UringLoopOptions options,
                                                           GoneCallback on_gone);
  UringLoop(const UringLoop&) = delete;
  UringLoop& operator=(const UringLoop&) = delete;
  // Closes every link (deleting taps) and stops the thread once nothing is in flight.
  ~UringLoop();

  // Hands `link` and its network `port` to the loop as link `id`; frames of up to
  // `frame_capacity` bytes pass. Returns once the loop reads from it. ENOSPC when the loop has
  // the maximum number of links.
  absl::Status Add(uint64_t id, std::unique_ptr<Link> link, std::unique_ptr<Port> port,
                   std::shared_ptr<LinkCounters> counters, size_t frame_capacity);

  // Closes link `id`, which leaves its network and closes its interface (a tap is deleted).
  // Returns once it is closed. ENOENT when there is no such link (it may have gone meanwhile).
  absl::Status Remove(uint64_t id);

 private:
  struct Command;

  UringLoop(UringLoopOptions options, GoneCallback on_gone, std::shared_ptr<Wakeup> wakeup);

  // Any thread: queues `command`, wakes the loop and waits for its answer.
  absl::Status Call(std::shared_ptr<Command> command);

  // Everything below runs on the loop thread.
  void Run(std::promise<absl::Status>& started);
  void OnWake();
  void OnTimer(const CompletionTag& tag);
  void OnRead(AttachedLink& link, size_t slot, int result);
  void OnWrite(AttachedLink& link, size_t slot, int result);
  void Execute(std::shared_ptr<Command> command);
  void Insert(std::shared_ptr<Command> command);
  void ArmWake();
  void ArmTimer();
  void ArmRead(AttachedLink& link, size_t slot);
  // Writes what the port has queued, as far as write slots are free.
  void Drain(AttachedLink& link);
  // Drains every link whose doorbell rang since the last call.
  void DrainRung();
  // Starts closing `link`: cancels its requests; Finish() follows once none is in flight.
  // `reason` is empty for a Remove(), else why the interface is gone.
  void Close(AttachedLink& link, const std::string& reason);
  void Finish(uint16_t index);
  // The link a completion is for, with the completion accounted for.
  AttachedLink& Completed(const CompletionTag& tag);
  static CompletionTag TagFor(Op op, const AttachedLink& link, size_t slot);
  bool Idle() const;

  const UringLoopOptions options_;
  const GoneCallback on_gone_;
  const std::shared_ptr<Wakeup> wakeup_;
  std::thread thread_;

  absl::Mutex mu_;
  std::deque<std::shared_ptr<Command>> commands_ ABSL_GUARDED_BY(mu_);

  // Loop thread only. A link's index in links_ is its table index in completion tags.
  std::unique_ptr<Ring> ring_;
  std::vector<std::unique_ptr<AttachedLink>> links_;
  std::vector<uint32_t> generations_;               // Per table index, bumped at every reuse.
  std::vector<std::shared_ptr<Command>> removals_;  // Per table index: whom Finish() answers.
  std::vector<size_t> ready_;                       // Scratch space for Drain.
  uint64_t wake_value_ = 0;                         // Read target of the armed eventfd read.
  __kernel_timespec interval_{};                    // Referenced by the armed timer.
  int own_in_flight_ = 0;                           // The eventfd read and the timer.
  bool stopping_ = false;
};

}  // namespace ipnfs

#endif  // IPNFS_TAP_URING_LOOP_H_
