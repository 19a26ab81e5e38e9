// FuseUring: the queues and the table of requests that wait for their replies (see fuse_uring.h);
// the queues themselves are in fuse_uring_queue.cc.
#include "fs/fuse_uring.h"

#include <linux/fuse.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "core/log.h"
#include "fs/fuse_uring_queue.h"

namespace ipnfs {

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
    char* payload = entry->buffer + FuseUringQueue::kPrefix;
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
  for (auto& queue : queues_) queue->Stop();
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
