#include "tap/uring_loop.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "core/errno_status.h"
#include "core/log.h"

namespace ipnfs {
namespace {

// A link whose reads fail this many times in a row while the interface exists is given up.
constexpr int kMaxFailedReads = 1000;

// Timer requests: the timeout itself, and its removal when the loop stops.
constexpr uint16_t kTimeout = 0;
constexpr uint16_t kTimeoutRemoval = 1;

}  // namespace

// One request to the loop thread. Shared by the caller, who waits on `done`, and the loop.
struct UringLoop::Command {
  enum class Kind { kAdd, kRemove, kStop };

  Kind kind = Kind::kStop;
  uint64_t id = 0;
  std::unique_ptr<AttachedLink> link;  // kAdd.
  absl::Status result;
  absl::Notification done;

  void Answer(absl::Status status) {
    result = std::move(status);
    done.Notify();
  }
};

absl::StatusOr<std::unique_ptr<UringLoop>> UringLoop::Create(UringLoopOptions options,
                                                             GoneCallback on_gone) {
  absl::StatusOr<std::shared_ptr<Wakeup>> wakeup = Wakeup::Create();
  if (!wakeup.ok()) return wakeup.status();
  std::unique_ptr<UringLoop> loop(
      new UringLoop(std::move(options), std::move(on_gone), *std::move(wakeup)));
  std::promise<absl::Status> started;
  std::future<absl::Status> ready = started.get_future();
  // The thread owns the promise: it may still be inside set_value() when `ready` is ready.
  loop->thread_ =
      std::thread([&loop = *loop, started = std::move(started)]() mutable { loop.Run(started); });
  if (absl::Status status = ready.get(); !status.ok()) {
    loop->thread_.join();
    return status;
  }
  return loop;
}

UringLoop::UringLoop(UringLoopOptions options, GoneCallback on_gone, std::shared_ptr<Wakeup> wakeup)
    : options_(std::move(options)), on_gone_(std::move(on_gone)), wakeup_(std::move(wakeup)) {}

UringLoop::~UringLoop() {
  if (!thread_.joinable()) return;
  auto stop = std::make_shared<Command>();
  stop->kind = Command::Kind::kStop;
  Call(stop).IgnoreError();
  thread_.join();
}

absl::Status UringLoop::Add(uint64_t id, std::unique_ptr<Link> link, std::unique_ptr<Port> port,
                            std::shared_ptr<LinkCounters> counters, size_t frame_capacity) {
  auto add = std::make_shared<Command>();
  add->kind = Command::Kind::kAdd;
  add->id = id;
  add->link = std::make_unique<AttachedLink>(
      id, std::move(link), std::move(port), std::move(counters),
      std::make_shared<Doorbell>(wakeup_), frame_capacity, options_.slots);
  return Call(std::move(add));
}

absl::Status UringLoop::Remove(uint64_t id) {
  auto remove = std::make_shared<Command>();
  remove->kind = Command::Kind::kRemove;
  remove->id = id;
  return Call(std::move(remove));
}

absl::Status UringLoop::Call(std::shared_ptr<Command> command) {
  IPN_CHECK(std::this_thread::get_id() != thread_.get_id()) << "the loop would wait for itself";
  {
    absl::MutexLock lock(&mu_);
    commands_.push_back(command);
  }
  wakeup_->Ring();
  command->done.WaitForNotification();
  return command->result;
}

void UringLoop::Run(std::promise<absl::Status>& started) {
  // The event loop. One thread owns the ring and every attached link; nothing here blocks but the
  // wait for completions, and nothing else touches the ring or a link's slots.
  //
  // - Requests are tagged (op, link table index, generation, slot); see completion_tag.h.
  // - Frames in: every link keeps options_.slots.reads reads armed, each on its own fixed slot
  //   buffer. A completed read sends the frame into the network (a small frame is copied into a
  //   packet; a large one, such as a 64 KiB GSO packet from a tap with offloads, becomes the packet
  //   and the slot gets a fresh buffer) and re-arms the slot at once. A tap's frames carry their
  //   virtio-net offload (checksum, TSO) into the network with them. Drops (too big, flow
  //   control) are counted, never fatal.
  // - Frames out: a port's poll waiter rings the link's doorbell (an atomic flag, plus the shared
  //   eventfd, on which one read stays armed, when rung from another thread). After each batch of
  //   completions the loop drains each rung port into free write slots, taking all its queued
  //   frames under one lock and writing them from the packets themselves (no copy), and submits
  //   the whole batch of writes and re-armed reads with one io_uring_enter. At most
  //   options_.slots.writes are in flight per link; more frames wait in the port's queue (which
  //   drops and counts beyond qlen) until a write completes and frees a slot. A drained port gets
  //   a new poll waiter; if a frame came in meanwhile, draining goes on.
  // - Commands (Add, Remove, Stop) come from other threads through a mutex-protected queue and
  //   the eventfd; their callers wait for the answer.
  // - Closing a link (Remove, or its interface gone: a read fails and Link::Exists() says so, or
  //   the periodic timer finds it missing) cancels its requests and frees it, closing the fd,
  //   only when its last completion is in: memory an in-flight request uses is never freed.
  absl::StatusOr<std::unique_ptr<Ring>> ring = Ring::Create(options_.ring_entries);
  if (!ring.ok()) {
    started.set_value(ring.status());
    return;
  }
  ring_ = *std::move(ring);
  wakeup_->ServeOnThisThread();
  started.set_value(absl::OkStatus());
  ArmWake();
  ArmTimer();
  while (!Idle()) {
    ring_->SubmitAndWait(options_.busy_poll);
    ring_->ForEachCompletion([this](const CompletionTag& tag, int result) {
      switch (tag.op) {
        case Op::kWake:
          return OnWake();
        case Op::kTimer:
          return OnTimer(tag);
        case Op::kRead:
          return OnRead(Completed(tag), tag.slot, result);
        case Op::kWrite:
          return OnWrite(Completed(tag), tag.slot, result);
        case Op::kCancel:
          return Close(Completed(tag), "");  // Already closing: settles it.
      }
      IPN_LOG(FATAL) << "completion with unknown tag " << static_cast<int>(tag.op);
    });
    DrainRung();
  }
  ring_.reset();
}

bool UringLoop::Idle() const {
  if (!stopping_ || own_in_flight_ > 0) return false;
  for (const auto& link : links_) {
    if (link != nullptr) return false;
  }
  return true;
}

AttachedLink& UringLoop::Completed(const CompletionTag& tag) {
  IPN_CHECK(tag.link < links_.size() && links_[tag.link] != nullptr &&
            tag.generation == (generations_[tag.link] & CompletionTag::kGenerationMask))
      << "completion for a link that is gone (" << tag.link << ")";
  AttachedLink& link = *links_[tag.link];
  --link.in_flight;
  return link;
}

CompletionTag UringLoop::TagFor(Op op, const AttachedLink& link, size_t slot) {
  return CompletionTag{.op = op,
                       .generation = link.generation,
                       .link = link.index,
                       .slot = static_cast<uint16_t>(slot)};
}

void UringLoop::ArmWake() {
  io_uring_sqe* sqe = ring_->GetSqe();
  io_uring_prep_read(sqe, wakeup_->fd(), &wake_value_, sizeof(wake_value_), 0);
  Ring::Tag(sqe, CompletionTag{.op = Op::kWake});
  ++own_in_flight_;
}

void UringLoop::ArmTimer() {
  const absl::Duration interval = options_.check_interval;
  interval_.tv_sec = absl::ToInt64Seconds(interval);
  interval_.tv_nsec = absl::ToInt64Nanoseconds(interval - absl::Seconds(interval_.tv_sec));
  io_uring_sqe* sqe = ring_->GetSqe();
  io_uring_prep_timeout(sqe, &interval_, 0, 0);
  Ring::Tag(sqe, CompletionTag{.op = Op::kTimer, .slot = kTimeout});
  ++own_in_flight_;
}

void UringLoop::ArmRead(AttachedLink& link, size_t slot) {
  FrameSlot& frame_slot = link.read_slot(slot);
  io_uring_sqe* sqe = ring_->GetSqe();
  link.link().PrepareRead(sqe, frame_slot);
  Ring::Tag(sqe, TagFor(Op::kRead, link, slot));
  frame_slot.busy = true;
  ++link.in_flight;
}

void UringLoop::OnWake() {
  --own_in_flight_;
  if (!stopping_) ArmWake();
  std::deque<std::shared_ptr<Command>> commands;
  {
    absl::MutexLock lock(&mu_);
    commands.swap(commands_);
  }
  for (auto& command : commands) Execute(std::move(command));
}

void UringLoop::DrainRung() {
  for (auto& link : links_) {
    if (link != nullptr && link->doorbell().Answer() && !link->closing) Drain(*link);
  }
}

void UringLoop::OnTimer(const CompletionTag& tag) {
  --own_in_flight_;
  if (tag.slot != kTimeout || stopping_) return;
  for (auto& link : links_) {
    if (link != nullptr && !link->closing && !link->link().Exists()) {
      Close(*link, "the interface no longer exists");
    }
  }
  ArmTimer();
}

void UringLoop::OnRead(AttachedLink& link, size_t slot, int result) {
  link.read_slot(slot).busy = false;
  if (link.closing) return Close(link, "");
  if (result >= 0) {
    link.failed_reads = 0;
    link.Forward(slot, static_cast<size_t>(result), absl::Now());
    return ArmRead(link, slot);
  }
  // Taps report a deleted interface with EBADFD, packet sockets with ENETDOWN (which they also
  // report when the interface merely goes down): ask the link which it is.
  if (!link.link().Exists()) {
    return Close(link, absl::StrCat("reading failed: ", strerror(-result)));
  }
  link.counters().ReadError();
  if (++link.failed_reads >= kMaxFailedReads) {
    return Close(link, absl::StrCat("reads keep failing: ", strerror(-result)));
  }
  ArmRead(link, slot);
}

void UringLoop::OnWrite(AttachedLink& link, size_t slot, int result) {
  link.Written(slot, result);
  if (link.closing) return Close(link, "");
  Drain(link);
}

void UringLoop::Drain(AttachedLink& link) {
  link.TakeQueuedFrames(ready_);
  for (size_t slot : ready_) {
    io_uring_sqe* sqe = ring_->GetSqe();
    link.link().PrepareWrite(sqe, link.write_slot(slot));
    Ring::Tag(sqe, TagFor(Op::kWrite, link, slot));
    ++link.in_flight;
  }
}

void UringLoop::Close(AttachedLink& link, const std::string& reason) {
  if (!link.closing) {
    link.closing = true;
    if (!reason.empty()) {
      IPN_LOG(WARNING) << link.label() << " is gone (" << reason
                       << "): its port leaves the network";
      link.gone = true;
    }
    link.StopWatching();
    io_uring_sqe* sqe = ring_->GetSqe();
    io_uring_prep_cancel_fd(sqe, link.link().fd(), IORING_ASYNC_CANCEL_ALL);
    Ring::Tag(sqe, TagFor(Op::kCancel, link, 0));
    ++link.in_flight;
  }
  if (link.in_flight == 0) Finish(link.index);
}

void UringLoop::Finish(uint16_t index) {
  const uint64_t id = links_[index]->id();
  const bool gone = links_[index]->gone;
  links_[index].reset();  // Leaves the network, closes the interface.
  ++generations_[index];
  if (std::shared_ptr<Command> removal = std::move(removals_[index])) {
    removal->Answer(absl::OkStatus());
  }
  if (gone && on_gone_) on_gone_(id);
}

void UringLoop::Execute(std::shared_ptr<Command> command) {
  switch (command->kind) {
    case Command::Kind::kAdd:
      return Insert(std::move(command));
    case Command::Kind::kRemove:
      for (auto& link : links_) {
        if (link == nullptr || link->id() != command->id) continue;
        removals_[link->index] = std::move(command);
        return Close(*link, "");
      }
      return command->Answer(ErrnoError(ENOENT, "no such link"));
    case Command::Kind::kStop:
      stopping_ = true;
      for (auto& link : links_) {
        if (link != nullptr) Close(*link, "");
      }
      {
        io_uring_sqe* sqe = ring_->GetSqe();
        io_uring_prep_timeout_remove(sqe, Encode(CompletionTag{.op = Op::kTimer}), 0);
        Ring::Tag(sqe, CompletionTag{.op = Op::kTimer, .slot = kTimeoutRemoval});
        ++own_in_flight_;
      }
      wakeup_->Ring();  // Completes the armed eventfd read, which is not re-armed now.
      return command->Answer(absl::OkStatus());
  }
}

void UringLoop::Insert(std::shared_ptr<Command> command) {
  if (stopping_) return command->Answer(ErrnoError(ESHUTDOWN, "the tap backend is stopping"));
  size_t index = 0;
  while (index < links_.size() && links_[index] != nullptr) ++index;
  if (index == links_.size()) {
    if (index >= CompletionTag::kMaxLinks) {
      return command->Answer(ErrnoError(ENOSPC, "too many attached interfaces"));
    }
    links_.emplace_back();
    generations_.push_back(0);
    removals_.emplace_back();
  }
  AttachedLink& link = *(links_[index] = std::move(command->link));
  link.index = static_cast<uint16_t>(index);
  link.generation = generations_[index] & CompletionTag::kGenerationMask;
  for (size_t slot = 0; slot < link.read_slots(); ++slot) ArmRead(link, slot);
  Drain(link);
  command->Answer(absl::OkStatus());
}

}  // namespace ipnfs
