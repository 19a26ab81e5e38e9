#include "tap/link_loop.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

absl::StatusOr<std::unique_ptr<LinkLoop>> LinkLoop::Create(EventLoop& loop, LinkLoopOptions options,
                                                           GoneCallback on_gone) {
  std::unique_ptr<LinkLoop> links(new LinkLoop(loop, std::move(options), std::move(on_gone)));
  absl::Status registered = loop.Call([&links = *links, &loop]() {
    links.handler_ = loop.Register(links);
    links.ArmTimer();
    return absl::OkStatus();
  });
  if (!registered.ok()) return registered;
  return links;
}

absl::Status LinkLoop::Add(uint64_t id, std::unique_ptr<Link> link, std::unique_ptr<Port> port,
                           std::shared_ptr<LinkCounters> counters, size_t frame_capacity) {
  auto attached = std::make_unique<AttachedLink>(
      id, std::move(link), std::move(port), std::move(counters),
      std::make_shared<Doorbell>(loop_.wakeup()), frame_capacity, options_.slots);
  return loop_.Call([this, &attached]() { return Insert(std::move(attached)); });
}

absl::Status LinkLoop::Remove(uint64_t id) {
  absl::Notification closed;
  absl::Status found = loop_.Call([this, id, &closed]() -> absl::Status {
    for (auto& link : links_) {
      if (link == nullptr || link->id() != id) continue;
      IPN_CHECK(removals_[link->index] == nullptr) << "link " << id << " removed twice at once";
      removals_[link->index] = &closed;
      Close(*link, "");
      return absl::OkStatus();
    }
    return ErrnoError(ENOENT, "no such link");
  });
  if (!found.ok()) return found;
  closed.WaitForNotification();  // Finish() runs, also when the loop stops meanwhile.
  return absl::OkStatus();
}

void LinkLoop::OnCompletion(const CompletionTag& tag, int result) {
  // Frames between interfaces and networks. Each attached link is an AttachedLink in links_; its
  // requests are tagged with its table index and generation, so a stale completion is caught.
  //
  // - Frames in: every link keeps options_.slots.reads reads armed, each on its own fixed slot
  //   buffer. A completed read sends the frame into the network (a small frame is copied into a
  //   packet; a large one, such as a 64 KiB GSO packet from a tap with offloads, becomes the packet
  //   and the slot gets a fresh buffer) and re-arms the slot at once. A tap's frames carry their
  //   virtio-net offload (checksum, TSO) into the network with them. Drops (too big, flow
  //   control) are counted, never fatal.
  // - Frames out: a port's poll waiter rings the link's doorbell (an atomic flag, plus the loop's
  //   eventfd when rung from another thread). After each batch of completions (AfterBatch) the
  //   loop drains each rung port into free write slots, taking all its queued frames under one
  //   lock and writing them from the packets themselves (no copy); the event loop submits the
  //   whole batch of writes and re-armed reads with one io_uring_enter. At most
  //   options_.slots.writes are in flight per link; more frames wait in the port's queue (which
  //   drops and counts beyond qlen) until a write completes and frees a slot. A drained port gets
  //   a new poll waiter; if a frame came in meanwhile, draining goes on.
  // - Add and Remove come from other threads as tasks of the event loop; their callers wait.
  // - Closing a link (Remove, or its interface gone: a read fails and Link::Exists() says so, or
  //   the periodic timer finds it missing) cancels its requests and frees it, closing the fd,
  //   only when its last completion is in: memory an in-flight request uses is never freed.
  switch (tag.op_as<Op>()) {
    case Op::kTimer:
      return OnTimer(tag);
    case Op::kRead:
      return OnRead(Completed(tag), tag.slot, result);
    case Op::kWrite:
      return OnWrite(Completed(tag), tag.slot, result);
    case Op::kCancel:
      return Close(Completed(tag), "");  // Already closing: settles it.
  }
  IPN_LOG(FATAL) << "tap completion with unknown op " << int{tag.op};
}

bool LinkLoop::Idle() const {
  if (timers_in_flight_ > 0) return false;
  for (const auto& link : links_) {
    if (link != nullptr) return false;
  }
  return true;
}

AttachedLink& LinkLoop::Completed(const CompletionTag& tag) {
  IPN_CHECK(tag.object < links_.size() && links_[tag.object] != nullptr &&
            tag.generation == (generations_[tag.object] & CompletionTag::kGenerationMask))
      << "completion for a link that is gone (" << tag.object << ")";
  AttachedLink& link = *links_[tag.object];
  --link.in_flight;
  return link;
}

CompletionTag LinkLoop::TagFor(Op op, const AttachedLink& link, size_t slot) const {
  return MakeTag(handler_, op, link.generation, link.index, static_cast<uint16_t>(slot));
}

void LinkLoop::ArmTimer() {
  const absl::Duration interval = options_.check_interval;
  interval_.tv_sec = absl::ToInt64Seconds(interval);
  interval_.tv_nsec = absl::ToInt64Nanoseconds(interval - absl::Seconds(interval_.tv_sec));
  io_uring_sqe* sqe = loop_.ring().GetSqe();
  io_uring_prep_timeout(sqe, &interval_, 0, 0);
  Ring::Tag(sqe, MakeTag(handler_, Op::kTimer, 0, 0, kTimeout));
  ++timers_in_flight_;
}

void LinkLoop::ArmRead(AttachedLink& link, size_t slot) {
  FrameSlot& frame_slot = link.read_slot(slot);
  io_uring_sqe* sqe = loop_.ring().GetSqe();
  link.link().PrepareRead(sqe, frame_slot);
  Ring::Tag(sqe, TagFor(Op::kRead, link, slot));
  frame_slot.busy = true;
  ++link.in_flight;
}

void LinkLoop::AfterBatch() {
  for (auto& link : links_) {
    if (link != nullptr && link->doorbell().Answer() && !link->closing) Drain(*link);
  }
}

void LinkLoop::OnTimer(const CompletionTag& tag) {
  --timers_in_flight_;
  if (tag.slot != kTimeout || stopping_) return;
  for (auto& link : links_) {
    if (link != nullptr && !link->closing && !link->link().Exists()) {
      Close(*link, "the interface no longer exists");
    }
  }
  ArmTimer();
}

void LinkLoop::OnRead(AttachedLink& link, size_t slot, int result) {
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

void LinkLoop::OnWrite(AttachedLink& link, size_t slot, int result) {
  link.Written(slot, result);
  if (link.closing) return Close(link, "");
  Drain(link);
}

void LinkLoop::Drain(AttachedLink& link) {
  link.TakeQueuedFrames(ready_);
  for (size_t slot : ready_) {
    io_uring_sqe* sqe = loop_.ring().GetSqe();
    link.link().PrepareWrite(sqe, link.write_slot(slot));
    Ring::Tag(sqe, TagFor(Op::kWrite, link, slot));
    ++link.in_flight;
  }
}

void LinkLoop::Close(AttachedLink& link, const std::string& reason) {
  if (!link.closing) {
    link.closing = true;
    if (!reason.empty()) {
      IPN_LOG(WARNING) << link.label() << " is gone (" << reason
                       << "): its port leaves the network";
      link.gone = true;
    }
    link.StopWatching();
    io_uring_sqe* sqe = loop_.ring().GetSqe();
    io_uring_prep_cancel_fd(sqe, link.link().fd(), IORING_ASYNC_CANCEL_ALL);
    Ring::Tag(sqe, TagFor(Op::kCancel, link, 0));
    ++link.in_flight;
  }
  if (link.in_flight == 0) Finish(link.index);
}

void LinkLoop::Finish(uint16_t index) {
  const uint64_t id = links_[index]->id();
  const bool gone = links_[index]->gone;
  links_[index].reset();  // Leaves the network, closes the interface.
  ++generations_[index];
  if (absl::Notification* removal = std::exchange(removals_[index], nullptr)) removal->Notify();
  if (gone && on_gone_) on_gone_(id);
}

void LinkLoop::OnStop() {
  stopping_ = true;
  for (auto& link : links_) {
    if (link != nullptr) Close(*link, "");
  }
  io_uring_sqe* sqe = loop_.ring().GetSqe();
  io_uring_prep_timeout_remove(sqe, Encode(MakeTag(handler_, Op::kTimer, 0, 0, kTimeout)), 0);
  Ring::Tag(sqe, MakeTag(handler_, Op::kTimer, 0, 0, kTimeoutRemoval));
  ++timers_in_flight_;
}

absl::Status LinkLoop::Insert(std::unique_ptr<AttachedLink> attached) {
  if (stopping_) return ErrnoError(ESHUTDOWN, "the tap backend is stopping");
  size_t index = 0;
  while (index < links_.size() && links_[index] != nullptr) ++index;
  if (index == links_.size()) {
    if (index >= CompletionTag::kMaxObjects) {
      return ErrnoError(ENOSPC, "too many attached interfaces");
    }
    links_.emplace_back();
    generations_.push_back(0);
    removals_.push_back(nullptr);
  }
  AttachedLink& link = *(links_[index] = std::move(attached));
  link.index = static_cast<uint16_t>(index);
  link.generation = generations_[index] & CompletionTag::kGenerationMask;
  for (size_t slot = 0; slot < link.read_slots(); ++slot) ArmRead(link, slot);
  Drain(link);
  return absl::OkStatus();
}

}  // namespace ipnfs
