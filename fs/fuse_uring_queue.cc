// The queue loop: each completion is either a request arriving in a ring entry (hand it to the
// dispatcher), a reply another queue's thread handed over by message (commit it), or an error
// (the connection is gone, or an entry must be registered again). Replies from threads that are
// no queue's come as posted tasks. After each batch the queue registers more entries when fewer
// than kSpare beyond all parked requests wait in the kernel, because parked requests keep theirs.
#include "fs/fuse_uring_queue.h"

#include <linux/fuse.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/errno_status.h"
#include "core/log.h"

namespace ipnfs {
namespace {

namespace abi = fuse_uring_abi;

static_assert(FuseUringQueue::kPrefix >= sizeof(fuse_in_header) + abi::kOpInOutSize);

constexpr unsigned kRingSize = 512;                         // SQEs; the CQ is twice that.
constexpr size_t kMaxEntries = CompletionTag::kMaxObjects;  // Per queue: an entry is a tag object.

// The queue whose loop runs on this thread, if any.
thread_local FuseUringQueue* t_queue = nullptr;

bool ConnectionGone(int error) {
  return error == ENOTCONN || error == ECONNABORTED || error == ECANCELED || error == ENODEV;
}

}  // namespace

FuseUringQueue::~FuseUringQueue() {
  loop_.reset();
  for (auto& entry : entries_) ::munmap(entry->buffer, BufferSize());
}

size_t FuseUringQueue::BufferSize() const { return kPrefix + owner_.options_.payload_size; }

absl::Status FuseUringQueue::Start() {
  EventLoopOptions options{
      .name = absl::StrCat("ipnfs-uring-", qid_),
      .ring = RingOptions{.entries = kRingSize,
                          .completion_entries = 2 * kRingSize,
                          .sqe_size = SqeSize::kLarge},
      .cpu = qid_,
      .busy_poll = owner_.options_.busy_poll,
  };
  absl::StatusOr<std::unique_ptr<EventLoop>> loop =
      EventLoop::Start(std::move(options), [this](EventLoop& loop) { return Setup(loop); });
  if (!loop.ok()) {
    return ErrnoError(StatusToErrno(loop.status()), absl::StrCat("io_uring for FUSE queue ", qid_,
                                                                 ": ", loop.status().message()));
  }
  loop_ = *std::move(loop);
  return absl::OkStatus();
}

void FuseUringQueue::Stop() {
  if (loop_ != nullptr) loop_->Stop();
}

absl::Status FuseUringQueue::Setup(EventLoop& loop) {
  t_queue = this;
  ring_ = &loop.ring();
  ring_fd_ = ring_->fd();
  handler_ = loop.Register(*this);
  serving_.store(&loop, std::memory_order_release);
  TopUp();
  return absl::OkStatus();
}

void FuseUringQueue::Wake() {
  loop().Post([] {});  // AfterBatch() follows, which tops up.
}

void FuseUringQueue::Answer(FuseUringEntry* entry) {
  if (t_queue == this) {
    SubmitCommand(entry, abi::kCommandCommitAndFetch);
  } else if (t_queue != nullptr) {
    t_queue->Message(*entry);  // Sent with that queue's next submission.
  } else {
    loop().Post([this, entry] { SubmitCommand(entry, abi::kCommandCommitAndFetch); });
  }
}

void FuseUringQueue::Message(const FuseUringEntry& entry) {
  const FuseUringQueue& target = *entry.queue;
  io_uring_sqe* sqe = ring_->GetSqe();
  io_uring_prep_msg_ring(sqe, target.ring_fd_, 0,
                         Encode(MakeTag(target.handler_, Op::kCommit, 0, entry.index)), 0);
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
  Ring::Tag(sqe, MakeTag(handler_, Op::kMessage));
}

void FuseUringQueue::OnCompletion(const CompletionTag& tag, int result) {
  switch (tag.op_as<Op>()) {
    case Op::kEntry:
      return OnEntry(entries_[tag.object].get(), result);
    case Op::kCommit:
      return SubmitCommand(entries_[tag.object].get(), abi::kCommandCommitAndFetch);
    case Op::kMessage:
      IPN_LOG(ERROR) << "FUSE queue " << qid_
                     << ": message to another queue failed: " << std::strerror(-result);
      return;
  }
  IPN_LOG(FATAL) << "FUSE queue " << qid_ << ": completion with unknown op " << int{tag.op};
}

void FuseUringQueue::AfterBatch() {
  if (!dead_) TopUp();
}

void FuseUringQueue::OnEntry(FuseUringEntry* entry, int result) {
  --armed_;
  if (result == 0) return Serve(entry);
  const int error = -result;
  if (ConnectionGone(error)) {
    dead_ = true;  // Unmounted: nothing will come any more.
  } else if (error == EAGAIN) {
    // Registered before the kernel finished processing INIT: try again shortly.
    absl::SleepFor(absl::Milliseconds(1));
    SubmitCommand(entry, abi::kCommandRegister);
  } else if (error == ENOENT) {
    // A commit for a request the kernel no longer knows: give the entry back.
    IPN_LOG(WARNING) << "FUSE queue " << qid_ << ": commit of request " << entry->commit_id
                     << " refused (" << std::strerror(error) << "); entry registered again";
    SubmitCommand(entry, abi::kCommandRegister);
  } else {
    if (!dead_) {
      IPN_LOG(ERROR) << "FUSE queue " << qid_
                     << ": io_uring command failed: " << std::strerror(error)
                     << "; this queue stops";
    }
    dead_ = true;
  }
}

void FuseUringQueue::Serve(FuseUringEntry* entry) {
  fuse_in_header in;
  std::memcpy(&in, entry->header.in_out, sizeof(in));
  const size_t payload = entry->header.ring_ent_in_out.payload_sz;
  const size_t fixed = sizeof(in) + payload;
  entry->commit_id = entry->header.ring_ent_in_out.commit_id;
  if (in.len < fixed || in.len - fixed > abi::kOpInOutSize ||
      payload > owner_.options_.payload_size) {
    IPN_LOG(ERROR) << "FUSE queue " << qid_ << ": malformed request (opcode " << in.opcode
                   << ", length " << in.len << ", payload " << payload << "): EIO";
    const fuse_out_header out{.len = sizeof(fuse_out_header), .error = -EIO, .unique = in.unique};
    std::memcpy(entry->header.in_out, &out, sizeof(out));
    entry->header.ring_ent_in_out.payload_sz = 0;
    SubmitCommand(entry, abi::kCommandCommitAndFetch);
    return;
  }
  const size_t argument = in.len - fixed;
  char* start = entry->buffer + kPrefix - argument - sizeof(in);
  std::memcpy(start, &in, sizeof(in));
  std::memcpy(start + sizeof(in), entry->header.op_in, argument);
  owner_.Track(in.unique, entry);
  owner_.dispatch_(start, in.len);
}

void FuseUringQueue::TopUp() {
  const int64_t wanted = owner_.parked_.load(std::memory_order_relaxed) + FuseUring::kSpare;
  while (armed_ < wanted && entries_.size() < kMaxEntries) {
    SubmitCommand(AddEntry(), abi::kCommandRegister);
  }
  if (armed_ < wanted) {
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true)) {
      IPN_LOG(WARNING) << "FUSE queue " << qid_ << ": " << kMaxEntries
                       << " ring entries in use; new requests may wait for parked ones to end";
    }
  }
}

FuseUringEntry* FuseUringQueue::AddEntry() {
  auto entry = std::make_unique<FuseUringEntry>();
  entry->queue = this;
  entry->index = static_cast<uint16_t>(entries_.size());
  void* memory = ::mmap(nullptr, BufferSize(), PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  IPN_CHECK(memory != MAP_FAILED) << "cannot map a FUSE ring buffer: " << std::strerror(errno);
  entry->buffer = static_cast<char*>(memory);
  entry->iov[0] = {.iov_base = &entry->header, .iov_len = sizeof(entry->header)};
  entry->iov[1] = {.iov_base = entry->buffer + kPrefix, .iov_len = owner_.options_.payload_size};
  entries_.push_back(std::move(entry));
  return entries_.back().get();
}

void FuseUringQueue::SubmitCommand(FuseUringEntry* entry, uint32_t command) {
  io_uring_sqe* sqe = ring_->GetSqe();
  const bool registering = command == abi::kCommandRegister;
  io_uring_prep_rw(IORING_OP_URING_CMD, sqe, owner_.options_.fuse_fd,
                   registering ? entry->iov : nullptr, registering ? 2 : 0, 0);
  sqe->cmd_op = command;
  std::memset(sqe->cmd, 0, abi::kSqeCommandSize);
  const abi::CommandRequest request{
      .flags = 0, .commit_id = registering ? 0 : entry->commit_id, .qid = qid_, .padding = {}};
  std::memcpy(sqe->cmd, &request, sizeof(request));
  Ring::Tag(sqe, MakeTag(handler_, Op::kEntry, 0, entry->index));
  ++armed_;
}

}  // namespace ipnfs
