// EventLoop: one thread that owns one io_uring and dispatches every completion to the handler that
// tagged its request. The adapters that move data with io_uring (the tap backend's links, the
// FUSE-over-io_uring queues, the socket faces) are handlers on a loop; the design is described at
// the top of EventLoop::Run() in event_loop.cc.
//
// Threads: handlers run only on the loop thread, and only they touch the ring. Post() and Call()
// hand work to the loop from any thread. The loop thread blocks every signal (the daemon's main
// thread takes them).
#ifndef IPNFS_URING_EVENT_LOOP_H_
#define IPNFS_URING_EVENT_LOOP_H_

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "uring/completion_tag.h"
#include "uring/ring.h"
#include "uring/wakeup.h"

namespace ipnfs {

struct EventLoopOptions {
  std::string name = "ipnfs-loop";  // The thread's name (15 characters are kept).
  RingOptions ring;
  std::optional<int> cpu;  // Pins the thread to this CPU (left unpinned if it is offline).
  // When above zero, the loop spins this long for the next completion before it sleeps
  // (--busy_poll_us): lower latency for a CPU's worth of spinning.
  absl::Duration busy_poll = absl::ZeroDuration();
};

class EventLoop {
 public:
  // A module whose requests the loop carries. Every method runs on the loop thread.
  class Handler {
   public:
    virtual ~Handler() = default;
    // A completion of a request this handler tagged.
    virtual void OnCompletion(const CompletionTag& tag, int result) = 0;
    // After each batch of completions and posted tasks: e.g. drain what was queued meanwhile.
    virtual void AfterBatch() {}
    // The loop is stopping: close everything, cancelling what is in flight. Called once.
    virtual void OnStop() {}
    // True once none of the handler's requests is in flight any more: after a stop, the loop ends
    // when every handler is idle, so that no memory a request uses is freed under it.
    virtual bool Idle() const = 0;
  };

  // Runs on the loop thread before it serves anything: registers handlers, arms first requests.
  using Setup = absl::AnyInvocable<absl::Status(EventLoop&)>;

  // Starts the thread, creates the ring there and runs `setup`; returns once that is done. Fails
  // when the thread, the ring (io_uring unavailable: ENOSYS, EPERM) or the eventfd cannot be had,
  // or with setup's error.
  static absl::StatusOr<std::unique_ptr<EventLoop>> Start(EventLoopOptions options, Setup setup);

  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop();  // Stop().

  // Loop thread: the ring.
  Ring& ring() { return *ring_; }
  // Loop thread, from setup or a task: `handler` gets the completions of requests tagged with the
  // returned id. Borrowed: it outlives the loop's thread (call Stop() before destroying it).
  uint8_t Register(Handler& handler);

  // Any thread: runs `task` on the loop thread soon, after the completions at hand. Never
  // blocks. False, not running it, once the loop has ended.
  bool Post(absl::AnyInvocable<void()> task);
  // Any thread but the loop's: runs `task` on the loop thread and returns its result.
  // ESHUTDOWN once the loop has ended.
  absl::Status Call(absl::AnyInvocable<absl::Status()> task);

  // The eventfd that wakes this loop: shared with the doorbells of its ports.
  const std::shared_ptr<Wakeup>& wakeup() const { return wakeup_; }
  bool OnLoopThread() const {
    return std::this_thread::get_id() == loop_thread_.load(std::memory_order_acquire);
  }

  // Any thread but the loop's: tells every handler to stop, waits until all are idle and joins
  // the thread. Idempotent.
  void Stop();

 private:
  enum class Op : uint8_t { kWake = 1 };
  static constexpr uint8_t kOwnHandler = 0;  // The loop's own requests: the eventfd read.

  EventLoop(EventLoopOptions options, std::shared_ptr<Wakeup> wakeup);

  // Everything below runs on the loop thread.
  void Run(Setup setup, std::promise<absl::Status>& started);
  void PrepareThread() const;
  void ArmWake();
  // Runs the posted tasks; begins stopping when asked to.
  void RunTasks();
  // Ends the loop: later tasks are dropped (a Call() waiting for one gets ESHUTDOWN).
  void End();
  bool Done() const;

  const EventLoopOptions options_;
  const std::shared_ptr<Wakeup> wakeup_;
  std::thread thread_;
  std::atomic<std::thread::id> loop_thread_;  // Set by the thread itself before setup.

  absl::Mutex mu_;
  std::vector<absl::AnyInvocable<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stop_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;  // No task runs any more.

  // Loop thread only.
  std::unique_ptr<Ring> ring_;
  std::vector<Handler*> handlers_{nullptr};  // Index 0: kOwnHandler.
  uint64_t wake_value_ = 0;                  // Read target of the armed eventfd read.
  bool wake_armed_ = false;
  bool stopping_ = false;
};

}  // namespace ipnfs

#endif  // IPNFS_URING_EVENT_LOOP_H_
