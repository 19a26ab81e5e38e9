#include "fs/pcap_file.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>

#include "absl/time/clock.h"
#include "fs/fuse_waiters.h"
#include "fs/pcap_format.h"

namespace ipnfs {
namespace {

// A read parked until the next packet; its record then answers it.
class PcapReadWaiter final : public FuseWaiter<ReadWaiter> {
 public:
  PcapReadWaiter(fuse_req_t req, size_t size, PcapFile& file, ParkedRequests* parked)
      // The core need not truncate: records are cut to the snap length here.
      : FuseWaiter(req, parked, SIZE_MAX), size_(size), file_(file) {}

  void Complete(const Packet& packet) override { file_.ReplyWithRecord(Unpark(), size_, packet); }

 private:
  size_t size_;
  PcapFile& file_;  // Outlives the waiter: a parked request holds the file.
};

}  // namespace

PcapFile::PcapFile(std::unique_ptr<Port> monitor, uint32_t snaplen, LinkType link_type)
    : monitor_(std::move(monitor)), snaplen_(snaplen) {
  absl::MutexLock lock(&mu_);
  AppendPcapGlobalHeader(snaplen, link_type, &pending_);
}

std::string PcapFile::TakeLocked(size_t size) {
  std::string taken = pending_.substr(0, size);
  pending_.erase(0, taken.size());
  return taken;
}

void PcapFile::Read(fuse_req_t req, size_t size, Waiting waiting, ParkedRequests& parked) {
  std::string bytes;
  {
    absl::MutexLock lock(&mu_);
    bytes = TakeLocked(size);
  }
  if (!bytes.empty()) {
    fuse_reply_buf(req, bytes.data(), bytes.size());
    return;
  }
  ParkedRequests* registry = Register(req, waiting, parked);
  monitor_->Receive(std::make_unique<PcapReadWaiter>(req, size, *this, registry), waiting,
                    absl::Now());
}

void PcapFile::ReplyWithRecord(fuse_req_t req, size_t size, const Packet& packet) {
  const uint32_t captured = std::min<size_t>(packet.size(), snaplen_);
  std::string bytes;
  {
    absl::MutexLock lock(&mu_);
    AppendPcapRecordHeader(packet.sent(), captured, packet.size(), &pending_);
    pending_.append(reinterpret_cast<const char*>(packet.bytes().data()), captured);
    bytes = TakeLocked(size);
  }
  fuse_reply_buf(req, bytes.data(), bytes.size());
}

void PcapFile::Write(fuse_req_t req, const char*, size_t, Waiting, ParkedRequests&) {
  fuse_reply_err(req, EBADF);
}

void PcapFile::Poll(fuse_req_t req, fuse_pollhandle* handle) {
  bool pending;
  {
    absl::MutexLock lock(&mu_);
    pending = !pending_.empty();
  }
  std::unique_ptr<PollWaiter> waiter;
  if (handle != nullptr) waiter = std::make_unique<FusePollWaiter>(handle);
  const PollState state = monitor_->Poll(std::move(waiter), absl::Now());
  fuse_reply_poll(req, pending || state.readable ? POLLIN | POLLRDNORM : 0);
}

void PcapFile::Ioctl(fuse_req_t req, unsigned int, const void*, size_t) {
  fuse_reply_err(req, ENOTTY);
}

}  // namespace ipnfs
