// LinkLoop: the tap backend's handler on a uring::EventLoop: it moves frames between attached
// interfaces and their networks. The design is described at the top of LinkLoop::OnCompletion()
// in link_loop.cc.
//
// Threads: Add() and Remove() may be called from any thread but the loop's; they hand the work to
// the loop and wait for its short answer (they never wait for frames). Everything else runs on
// the loop thread. The EventLoop must be stopped before the LinkLoop is destroyed.
#ifndef IPNFS_TAP_LINK_LOOP_H_
#define IPNFS_TAP_LINK_LOOP_H_

#include <linux/time_types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "core/port.h"
#include "tap/attached_link.h"
#include "tap/link.h"
#include "tap/link_counters.h"
#include "uring/event_loop.h"

namespace ipnfs {

struct LinkLoopOptions {
  unsigned ring_entries = 256;
  SlotCounts slots;
  // How often the loop checks that every attached interface still exists (a fallback: a deleted
  // interface is normally noticed at once, by its failing read).
  absl::Duration check_interval = absl::Seconds(1);
  // When above zero, the loop spins this long for the next completion before it sleeps
  // (--busy_poll_us): lower latency for a CPU's worth of spinning.
  absl::Duration busy_poll = absl::ZeroDuration();
};

class LinkLoop final : public EventLoop::Handler {
 public:
  // Called on the loop thread once link `id` was closed because its interface disappeared.
  using GoneCallback = std::function<void(uint64_t id)>;

  // Registers a LinkLoop on `loop`, which outlives it. Any thread but the loop's.
  static absl::StatusOr<std::unique_ptr<LinkLoop>> Create(EventLoop& loop, LinkLoopOptions options,
                                                          GoneCallback on_gone);
  LinkLoop(const LinkLoop&) = delete;
  LinkLoop& operator=(const LinkLoop&) = delete;

  // Hands `link` and its network `port` to the loop as link `id`; frames of up to
  // `frame_capacity` bytes pass. Returns once the loop reads from it. ENOSPC when the loop has
  // the maximum number of links; ESHUTDOWN once it stops.
  absl::Status Add(uint64_t id, std::unique_ptr<Link> link, std::unique_ptr<Port> port,
                   std::shared_ptr<LinkCounters> counters, size_t frame_capacity);

  // Closes link `id`, which leaves its network and closes its interface (a tap is deleted).
  // Returns once it is closed. ENOENT when there is no such link (it may have gone meanwhile).
  absl::Status Remove(uint64_t id);

  // EventLoop::Handler; everything below runs on the loop thread.
  void OnCompletion(const CompletionTag& tag, int result) override;
  // Drains every link whose doorbell rang since the last batch.
  void AfterBatch() override;
  // Closes every link (deleting taps) and removes the timer.
  void OnStop() override;
  bool Idle() const override;

 private:
  enum class Op : uint8_t {
    kTimer = 1,  // The periodic check that attached interfaces still exist.
    kRead,       // A frame read from a link.
    kWrite,      // A frame written to a link.
    kCancel,     // Cancelling a link's requests before it closes.
  };

  LinkLoop(EventLoop& loop, LinkLoopOptions options, GoneCallback on_gone)
      : loop_(loop), options_(std::move(options)), on_gone_(std::move(on_gone)) {}

  void OnTimer(const CompletionTag& tag);
  void OnRead(AttachedLink& link, size_t slot, int result);
  void OnWrite(AttachedLink& link, size_t slot, int result);
  absl::Status Insert(std::unique_ptr<AttachedLink> attached);
  void ArmTimer();
  void ArmRead(AttachedLink& link, size_t slot);
  // Writes what the port has queued, as far as write slots are free.
  void Drain(AttachedLink& link);
  // Starts closing `link`: cancels its requests; Finish() follows once none is in flight.
  // `reason` is empty for a Remove(), else why the interface is gone.
  void Close(AttachedLink& link, const std::string& reason);
  void Finish(uint16_t index);
  // The link a completion is for, with the completion accounted for.
  AttachedLink& Completed(const CompletionTag& tag);
  CompletionTag TagFor(Op op, const AttachedLink& link, size_t slot) const;

  EventLoop& loop_;
  const LinkLoopOptions options_;
  const GoneCallback on_gone_;
  uint8_t handler_ = 0;  // Set on registration, then constant.

  // Loop thread only. A link's index in links_ is its object in completion tags.
  std::vector<std::unique_ptr<AttachedLink>> links_;
  std::vector<uint32_t> generations_;          // Per table index, bumped at every reuse.
  std::vector<absl::Notification*> removals_;  // Per table index: whom Finish() tells.
  std::vector<size_t> ready_;                  // Scratch space for Drain.
  __kernel_timespec interval_{};               // Referenced by the armed timer.
  int timers_in_flight_ = 0;                   // The timer and its removal.
  bool stopping_ = false;
};

}  // namespace ipnfs

#endif  // IPNFS_TAP_LINK_LOOP_H_
