#include "uring/event_loop.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <cerrno>
#include <utility>

#include "absl/synchronization/notification.h"
#include "core/errno_status.h"
#include "core/log.h"

namespace ipnfs {
namespace {

// What a Call() waits for: the task's result, notified when the task has run or was dropped.
struct CallState {
  absl::Notification done;
  absl::Status result = ErrnoError(ESHUTDOWN, "the event loop has stopped");
};

// Notifies its CallState when destroyed, whether or not the task ran. Move-only.
class CallGuard {
 public:
  explicit CallGuard(std::shared_ptr<CallState> state) : state_(std::move(state)) {}
  CallGuard(CallGuard&&) = default;
  CallGuard& operator=(CallGuard&&) = delete;
  ~CallGuard() {
    if (state_ != nullptr) state_->done.Notify();
  }
  CallState& state() { return *state_; }

 private:
  std::shared_ptr<CallState> state_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Start(EventLoopOptions options, Setup setup) {
  absl::StatusOr<std::shared_ptr<Wakeup>> wakeup = Wakeup::Create();
  if (!wakeup.ok()) return wakeup.status();
  std::unique_ptr<EventLoop> loop(new EventLoop(std::move(options), *std::move(wakeup)));
  std::promise<absl::Status> started;
  std::future<absl::Status> ready = started.get_future();
  // The thread takes no signals: the main thread waits for them. It inherits this mask.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  // The thread owns the promise: it may still be inside set_value() when `ready` is ready.
  loop->thread_ = std::thread(
      [&loop = *loop, setup = std::move(setup), started = std::move(started)]() mutable {
        loop.Run(std::move(setup), started);
      });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (absl::Status status = ready.get(); !status.ok()) {
    loop->thread_.join();
    return status;
  }
  return loop;
}

EventLoop::EventLoop(EventLoopOptions options, std::shared_ptr<Wakeup> wakeup)
    : options_(std::move(options)), wakeup_(std::move(wakeup)) {}

EventLoop::~EventLoop() { Stop(); }

void EventLoop::Stop() {
  if (!thread_.joinable()) return;
  IPN_CHECK(!OnLoopThread()) << "an event loop cannot stop itself";
  {
    absl::MutexLock lock(&mu_);
    stop_requested_ = true;
  }
  wakeup_->Ring();
  thread_.join();
}

uint8_t EventLoop::Register(Handler& handler) {
  IPN_CHECK(OnLoopThread()) << "handlers register on the loop thread";
  IPN_CHECK(handlers_.size() < CompletionTag::kMaxHandlers) << "too many event loop handlers";
  handlers_.push_back(&handler);
  return static_cast<uint8_t>(handlers_.size() - 1);
}

bool EventLoop::Post(absl::AnyInvocable<void()> task) {
  {
    absl::MutexLock lock(&mu_);
    if (ended_) return false;
    tasks_.push_back(std::move(task));
  }
  wakeup_->Ring();
  return true;
}

absl::Status EventLoop::Call(absl::AnyInvocable<absl::Status()> task) {
  IPN_CHECK(!OnLoopThread()) << "the loop would wait for itself";
  auto state = std::make_shared<CallState>();
  Post([guard = CallGuard(state), task = std::move(task)]() mutable {
    guard.state().result = task();
  });
  state->done.WaitForNotification();  // A dropped task notifies too, with ESHUTDOWN.
  return state->result;
}

void EventLoop::PrepareThread() const {
  pthread_setname_np(pthread_self(), options_.name.substr(0, 15).c_str());
  if (options_.cpu.has_value()) {
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(*options_.cpu, &cpus);
    pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);  // Offline: stays unpinned.
  }
}

void EventLoop::Run(Setup setup, std::promise<absl::Status>& started) {
  // The event loop. One thread owns the ring; nothing here blocks but the wait for completions.
  //
  // - Every request is tagged (handler, op, generation, object, slot); see completion_tag.h. A
  //   completion goes to the handler named in its tag; handler 0 is the loop's own eventfd read.
  // - Work from other threads comes as posted tasks: a mutex-protected list and the eventfd, on
  //   which one read stays armed. Tasks run after the batch of completions that woke the loop.
  // - After each batch, every handler's AfterBatch() runs (e.g. draining ports whose doorbells
  //   rang), and the next SubmitAndWait() submits everything the batch prepared with one
  //   io_uring_enter.
  // - Stop: each handler's OnStop() cancels what it has in flight; the loop goes on until every
  //   handler is idle, so that memory an in-flight request uses is never freed, then ends. Tasks
  //   posted after that are dropped (a Call() gets ESHUTDOWN).
  loop_thread_.store(std::this_thread::get_id(), std::memory_order_release);
  PrepareThread();
  absl::StatusOr<std::unique_ptr<Ring>> ring = Ring::Create(options_.ring);
  if (!ring.ok()) {
    End();
    started.set_value(ring.status());
    return;
  }
  ring_ = *std::move(ring);
  wakeup_->ServeOnThisThread();
  if (absl::Status status = setup(*this); !status.ok()) {
    End();
    ring_.reset();
    started.set_value(status);
    return;
  }
  ArmWake();
  started.set_value(absl::OkStatus());
  while (!Done()) {
    ring_->SubmitAndWait(options_.busy_poll);
    ring_->ForEachCompletion([this](const CompletionTag& tag, int result) {
      if (tag.handler == kOwnHandler) {
        wake_armed_ = false;
        return;
      }
      IPN_CHECK(tag.handler < handlers_.size()) << "completion for no handler: " << tag.handler;
      handlers_[tag.handler]->OnCompletion(tag, result);
    });
    if (!wake_armed_ || stopping_) RunTasks();
    for (size_t i = 1; i < handlers_.size(); ++i) handlers_[i]->AfterBatch();
  }
  End();
  ring_.reset();
}

void EventLoop::ArmWake() {
  io_uring_sqe* sqe = ring_->GetSqe();
  io_uring_prep_read(sqe, wakeup_->fd(), &wake_value_, sizeof(wake_value_), 0);
  Ring::Tag(sqe, MakeTag(kOwnHandler, Op::kWake));
  wake_armed_ = true;
}

void EventLoop::RunTasks() {
  std::vector<absl::AnyInvocable<void()>> tasks;
  bool stop;
  {
    absl::MutexLock lock(&mu_);
    tasks.swap(tasks_);
    stop = stop_requested_;
  }
  // While stopping the eventfd read is not armed again: tasks are looked at after every batch.
  if (!stopping_ && !stop && !wake_armed_) ArmWake();
  for (auto& task : tasks) task();
  if (stop && !stopping_) {
    stopping_ = true;
    for (size_t i = 1; i < handlers_.size(); ++i) handlers_[i]->OnStop();
  }
}

void EventLoop::End() {
  std::vector<absl::AnyInvocable<void()>> dropped;
  {
    absl::MutexLock lock(&mu_);
    ended_ = true;
    dropped.swap(tasks_);
  }
  // Destroyed outside the lock: a dropped Call() notifies its caller.
}

bool EventLoop::Done() const {
  if (!stopping_ || wake_armed_) return false;
  for (size_t i = 1; i < handlers_.size(); ++i) {
    if (!handlers_[i]->Idle()) return false;
  }
  return true;
}

}  // namespace ipnfs
