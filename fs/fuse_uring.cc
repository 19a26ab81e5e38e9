// FuseUring's queues: one io_uring and one pinned thread per possible CPU (see fuse_uring.h).
//
// The queue loop: submit what is pending and wait for completions; each completion is either a
// request arriving in a ring entry (hand it to the dispatcher), the wake-up eventfd (commit the
// replies other threads handed over), or an error (the connection is gone, or an entry must be
// registered again). After each batch the queue grows when fewer than kLowWater entries are left
// waiting in the kernel, because parked requests keep theirs.
#include "fs/fuse_uring.h"

#include <linux/fuse.h>
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "core/errno_status.h"
#include "core/log.h"
#include "fs/fuse_uring_abi.h"
#include "tap/ring.h"

namespace ipnfs {
namespace {

namespace abi = fuse_uring_abi;

// Room before the payload for the fuse_in_header and the opcode's argument, so that a request
// reaches the dispatcher as one contiguous buffer without copying its payload.
constexpr size_t kPrefix = 256;
static_assert(kPrefix >= sizeof(fuse_in_header) + abi::kOpInOutSize);

constexpr unsigned kRingSize = 512;  // SQEs; the CQ is twice that.
// Entries each queue keeps waiting in the kernel beyond the requests parked in all queues. The
// kernel hands a request to a waiting entry or queues it, and only a commit on that queue takes
// a queued request (registering an entry does not): were every entry held by a parked request,
// queued requests would wait, uninterruptible, until some other request on that CPU ended.
// Each parked request, once answered, may come back on any CPU: hence "parked in all queues".
constexpr int64_t kSpare = 32;
constexpr size_t kMaxEntries = 1 << 16;  // Per queue.
// Completion tags: an entry's index (its request arrived), or one of these.
constexpr uint64_t kWakeTag = ~uint64_t{0};        // The eventfd: the inbox has work.
constexpr uint64_t kCommitTag = uint64_t{1} << 62;  // | index: another queue answered the entry.
constexpr uint64_t kMessageTag = uint64_t{1} << 61;  // A failed message to another queue.

}  // namespace

// One ring entry: the header and payload buffers registered with the kernel.
struct FuseUringEntry {
  FuseUringQueue* queue = nullptr;
  uint32_t index = 0;  // In its queue; the completion tag.
  abi::RequestHeader header{};
  char* buffer = nullptr;  // kPrefix bytes, then Options::payload_size bytes of payload.
  iovec iov[2]{};
  uint64_t commit_id = 0;  // Of the request it holds.
};

class FuseUringQueue {
 public:
  FuseUringQueue(FuseUring& owner, uint16_t qid) : owner_(owner), qid_(qid) {}
  ~FuseUringQueue();

  // Starts the thread, which creates the ring; fails if either cannot be made.
  absl::Status Start();
  // Wakes the thread (to notice Stop) and waits for it to end.
  void Join();
  // Commits `entry`'s reply, already in its buffers. Any thread.
  void Answer(FuseUringEntry* entry);
  // Makes the thread look at its entries (after parked requests grew). Any thread.
  void Wake();
  // Queue thread: posts a completion tagged `tag` to the ring `ring_fd` of another queue.
  void Message(int ring_fd, uint64_t tag);

 private:
  void Run(absl::Notification& ready, absl::Status& status);
  void Loop();
  void WaitForCompletions();
  void Handle(uint64_t tag, int result);
  void Serve(FuseUringEntry* entry);
  void DrainInbox();
  // Registers entries until kSpare more than all parked requests wait in the kernel.
  void TopUp();
  FuseUringEntry* AddEntry();
  size_t BufferSize() const { return kPrefix + owner_.options_.payload_size; }
  io_uring_sqe* GetSqe();
  void SubmitCommand(FuseUringEntry* entry, uint32_t command);
  void ArmWake();

  FuseUring& owner_;
  const uint16_t qid_;
  std::thread thread_;
  io_uring ring_{};
  bool ring_ready_ = false;
  int wake_fd_ = -1;
  uint64_t wake_value_ = 0;
  // Queue thread only.
  std::vector<std::unique_ptr<FuseUringEntry>> entries_;
  int armed_ = 0;     // Entries registered or committed and not yet completed.
  bool dead_ = false;  // The connection is gone or refuses io_uring.
  absl::Mutex mu_;
  std::vector<FuseUringEntry*> inbox_ ABSL_GUARDED_BY(mu_);
};

namespace {
thread_local FuseUringQueue* t_queue = nullptr;

bool ConnectionGone(int error) {
  return error == ENOTCONN || error == ECONNABORTED || error == ECANCELED || error == ENODEV;
}
}  // namespace

FuseUringQueue::~FuseUringQueue() {
  if (ring_ready_) io_uring_queue_exit(&ring_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  for (auto& entry : entries_) ::munmap(entry->buffer, BufferSize());
}

absl::Status FuseUringQueue::Start() {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) return ErrnoError(errno, "eventfd");
  absl::Notification ready;
  absl::Status status;
  // The thread takes no signals: the main thread waits for them.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  thread_ = std::thread([this, &ready, &status] { Run(ready, status); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  ready.WaitForNotification();
  if (!status.ok()) thread_.join();
  return status;
}

void FuseUringQueue::Wake() {
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
}

void FuseUringQueue::Join() {
  if (!thread_.joinable()) return;
  Wake();
  thread_.join();
}

void FuseUringQueue::Answer(FuseUringEntry* entry) {
  if (t_queue == this) {
    SubmitCommand(entry, abi::kCommandCommitAndFetch);
    return;
  }
  if (t_queue != nullptr) {
    // Another queue's thread: a message from its ring to ours, sent with its next submission.
    t_queue->Message(ring_.ring_fd, kCommitTag | entry->index);
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    inbox_.push_back(entry);
  }
  Wake();
}

void FuseUringQueue::Run(absl::Notification& ready, absl::Status& status) {
  t_queue = this;
  pthread_setname_np(pthread_self(), absl::StrCat("ipnfs-uring-", qid_).c_str());
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(qid_, &cpus);
  pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);  // An offline CPU: stay unpinned.
  io_uring_params params{};
  params.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER |
                 IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  params.cq_entries = 2 * kRingSize;
  if (const int result = io_uring_queue_init_params(kRingSize, &ring_, &params); result < 0) {
    status = ErrnoError(-result, absl::StrCat("io_uring for FUSE queue ", qid_));
    ready.Notify();
    return;
  }
  ring_ready_ = true;
  ready.Notify();  // `ready` and `status` are gone from here on.
  Loop();
}

void FuseUringQueue::Loop() {
  TopUp();
  ArmWake();
  while (!owner_.stopped_.load(std::memory_order_acquire)) {
    WaitForCompletions();
    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      Handle(cqe->user_data, cqe->res);
      ++seen;
    }
    io_uring_cq_advance(&ring_, seen);
    if (!dead_) TopUp();
  }
}

void FuseUringQueue::WaitForCompletions() {
  const absl::Duration busy_poll = owner_.options_.busy_poll;
  if (busy_poll > absl::ZeroDuration()) {
    io_uring_submit(&ring_);
    if (SpinForCompletion(ring_, busy_poll)) return;
  }
  const int result = io_uring_submit_and_wait(&ring_, 1);
  if (result < 0 && result != -EINTR && result != -EAGAIN && result != -EBUSY) {
    IPN_LOG(ERROR) << "FUSE queue " << qid_ << ": io_uring_enter: " << std::strerror(-result);
    absl::SleepFor(absl::Milliseconds(10));  // Never spin on a broken ring.
  }
}

void FuseUringQueue::Handle(uint64_t tag, int result) {
  if (tag == kWakeTag) {
    DrainInbox();
    if (!owner_.stopped_.load(std::memory_order_acquire)) ArmWake();
    return;
  }
  if (tag == kMessageTag) {
    IPN_LOG(ERROR) << "FUSE queue " << qid_ << ": message to another queue failed: "
                   << std::strerror(-result);
    return;
  }
  if (tag & kCommitTag) {
    SubmitCommand(entries_[tag & ~kCommitTag].get(), abi::kCommandCommitAndFetch);
    return;
  }
  FuseUringEntry* entry = entries_[tag].get();
  --armed_;
  if (result == 0) {
    Serve(entry);
    return;
  }
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
      IPN_LOG(ERROR) << "FUSE queue " << qid_ << ": io_uring command failed: "
                     << std::strerror(error) << "; this queue stops";
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

void FuseUringQueue::DrainInbox() {
  std::vector<FuseUringEntry*> answered;
  {
    absl::MutexLock lock(&mu_);
    answered.swap(inbox_);
  }
  for (FuseUringEntry* entry : answered) SubmitCommand(entry, abi::kCommandCommitAndFetch);
}

void FuseUringQueue::TopUp() {
  const int64_t wanted = owner_.parked_.load(std::memory_order_relaxed) + kSpare;
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
  entry->index = static_cast<uint32_t>(entries_.size());
  void* memory = ::mmap(nullptr, BufferSize(), PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  IPN_CHECK(memory != MAP_FAILED) << "cannot map a FUSE ring buffer: " << std::strerror(errno);
  entry->buffer = static_cast<char*>(memory);
  entry->iov[0] = {.iov_base = &entry->header, .iov_len = sizeof(entry->header)};
  entry->iov[1] = {.iov_base = entry->buffer + kPrefix, .iov_len = owner_.options_.payload_size};
  entries_.push_back(std::move(entry));
  return entries_.back().get();
}

io_uring_sqe* FuseUringQueue::GetSqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

void FuseUringQueue::SubmitCommand(FuseUringEntry* entry, uint32_t command) {
  io_uring_sqe* sqe = GetSqe();
  const bool registering = command == abi::kCommandRegister;
  io_uring_prep_rw(IORING_OP_URING_CMD, sqe, owner_.options_.fuse_fd,
                   registering ? entry->iov : nullptr, registering ? 2 : 0, 0);
  sqe->cmd_op = command;
  std::memset(sqe->cmd, 0, abi::kSqeCommandSize);
  const abi::CommandRequest request{
      .flags = 0, .commit_id = registering ? 0 : entry->commit_id, .qid = qid_, .padding = {}};
  std::memcpy(sqe->cmd, &request, sizeof(request));
  io_uring_sqe_set_data64(sqe, entry->index);
  ++armed_;
}

void FuseUringQueue::Message(int ring_fd, uint64_t tag) {
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_msg_ring(sqe, ring_fd, 0, tag, 0);
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
  io_uring_sqe_set_data64(sqe, kMessageTag);
}

void FuseUringQueue::ArmWake() {
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_read(sqe, wake_fd_, &wake_value_, sizeof(wake_value_), 0);
  io_uring_sqe_set_data64(sqe, kWakeTag);
}

// --- FuseUring ------------------------------------------------------------------------------

FuseUring::FuseUring(const Options& options, Dispatch dispatch)
    : options_(options), dispatch_(std::move(dispatch)) {}

FuseUring::~FuseUring() {
  Stop();
  queues_.clear();
}

absl::StatusOr<std::unique_ptr<FuseUring>> FuseUring::Start(const Options& options,
                                                            Dispatch dispatch) {
  auto uring = std::unique_ptr<FuseUring>(new FuseUring(options, std::move(dispatch)));
  const int queues = PossibleCpuCount();
  for (int qid = 0; qid < queues; ++qid) {
    uring->queues_.push_back(std::make_unique<FuseUringQueue>(*uring, static_cast<uint16_t>(qid)));
  }
  // All queues exist before any runs: a running queue may wake the others.
  for (auto& queue : uring->queues_) {
    if (absl::Status started = queue->Start(); !started.ok()) return started;
  }
  return uring;
}

void FuseUring::Track(uint64_t unique, FuseUringEntry* entry) {
  {
    absl::MutexLock lock(&mu_);
    in_flight_[unique] = entry;
  }
  const int64_t parked = parked_.fetch_add(1, std::memory_order_relaxed) + 1;
  // Every queue must be able to take all parked requests back at once: when they grew by
  // half the spare, wake the queues to register more entries.
  int64_t announced = announced_.load(std::memory_order_relaxed);
  if (parked >= announced + kSpare / 2 &&
      announced_.compare_exchange_strong(announced, parked, std::memory_order_relaxed)) {
    for (auto& queue : queues_) queue->Wake();
  }
}

bool FuseUring::Reply(const struct iovec* iov, int count) {
  if (count < 1 || iov[0].iov_len < sizeof(fuse_out_header)) return false;
  fuse_out_header out;
  std::memcpy(&out, iov[0].iov_base, sizeof(out));
  if (out.unique == 0) return false;  // A notification: only /dev/fuse takes those.
  FuseUringEntry* entry;
  {
    absl::MutexLock lock(&mu_);
    auto found = in_flight_.find(out.unique);
    if (found == in_flight_.end()) return false;
    entry = found->second;
    in_flight_.erase(found);
  }
  const int64_t parked = parked_.fetch_sub(1, std::memory_order_relaxed) - 1;
  int64_t announced = announced_.load(std::memory_order_relaxed);
  if (parked + kSpare < announced) {
    announced_.compare_exchange_strong(announced, parked, std::memory_order_relaxed);
  }
  size_t body = 0;
  for (int i = 1; i < count; ++i) body += iov[i].iov_len;
  if (body > options_.payload_size) {
    IPN_LOG(ERROR) << "reply of " << body << " bytes to request " << out.unique
                   << " exceeds the ring buffer: EIO";
    out.error = -EIO;
    body = 0;
  } else {
    char* payload = entry->buffer + kPrefix;
    for (int i = 1; i < count; ++i) {
      std::memcpy(payload, iov[i].iov_base, iov[i].iov_len);
      payload += iov[i].iov_len;
    }
  }
  out.len = static_cast<uint32_t>(sizeof(out) + body);
  std::memcpy(entry->header.in_out, &out, sizeof(out));
  entry->header.ring_ent_in_out.payload_sz = static_cast<uint32_t>(body);
  if (!stopped_.load(std::memory_order_acquire)) entry->queue->Answer(entry);
  return true;
}

void FuseUring::Stop() {
  if (stopped_.exchange(true)) return;
  // The queues themselves stay until the destructor: a late Reply() may still hand them work.
  for (auto& queue : queues_) queue->Join();
}

int CpuListSlots(absl::string_view list) {
  int highest = -1;
  for (absl::string_view range : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> bounds = absl::StrSplit(range, '-');
    const absl::string_view last = bounds.second.empty() ? bounds.first : bounds.second;
    int cpu = 0;
    if (absl::SimpleAtoi(last, &cpu) && cpu >= 0) highest = std::max(highest, cpu);
  }
  return highest + 1;
}

int PossibleCpuCount() {
  std::ifstream file("/sys/devices/system/cpu/possible");
  std::string text;
  std::getline(file, text);
  if (const int slots = CpuListSlots(text); slots > 0) return slots;
  const long configured = ::sysconf(_SC_NPROCESSORS_CONF);
  return configured > 0 ? static_cast<int>(configured) : 1;
}

}  // namespace ipnfs
