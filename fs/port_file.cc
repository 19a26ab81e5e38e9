#include "fs/port_file.h"

#include <poll.h>

#include <cerrno>
#include <vector>

#include "absl/time/clock.h"
#include "core/errno_status.h"
#include "core/log.h"

namespace ipnfs {
namespace {

// A read request parked in the core; replies exactly once.
class FuseReadWaiter final : public ReadWaiter {
 public:
  FuseReadWaiter(fuse_req_t req, size_t size, ParkedReads& parked)
      : ReadWaiter(reinterpret_cast<uintptr_t>(req), size), req_(req), parked_(parked) {}

  bool Abandoned() const override { return fuse_req_interrupted(req_); }

  void Complete(const Packet& packet) override {
    parked_.Remove(req_);
    const size_t size = std::min(packet.size(), max_bytes());
    fuse_reply_buf(req_, reinterpret_cast<const char*>(packet.bytes().data()), size);
  }

  void Fail(int error_number) override {
    parked_.Remove(req_);
    fuse_reply_err(req_, error_number);
  }

 private:
  fuse_req_t req_;
  ParkedReads& parked_;
};

class FusePollWaiter final : public PollWaiter {
 public:
  explicit FusePollWaiter(fuse_pollhandle* handle) : handle_(handle) {}
  ~FusePollWaiter() override { fuse_pollhandle_destroy(handle_); }
  FusePollWaiter(const FusePollWaiter&) = delete;
  FusePollWaiter& operator=(const FusePollWaiter&) = delete;

  void Notify() override { fuse_lowlevel_notify_poll(handle_); }

 private:
  fuse_pollhandle* handle_;
};

void OnInterrupt(fuse_req_t req, void* data) { static_cast<ParkedReads*>(data)->Interrupt(req); }

}  // namespace

void ParkedReads::Add(fuse_req_t req, std::shared_ptr<PortFile> file) {
  absl::MutexLock lock(&mu_);
  reads_.emplace(req, std::move(file));
}

void ParkedReads::Remove(fuse_req_t req) {
  std::shared_ptr<PortFile> file;  // Released after the lock.
  absl::MutexLock lock(&mu_);
  auto it = reads_.find(req);
  if (it == reads_.end()) return;
  file = std::move(it->second);
  reads_.erase(it);
}

void ParkedReads::Interrupt(fuse_req_t req) {
  std::shared_ptr<PortFile> file;
  {
    absl::MutexLock lock(&mu_);
    auto it = reads_.find(req);
    if (it == reads_.end()) return;
    file = it->second;  // Keeps the port alive even if the read completes meanwhile.
  }
  IPN_LOG(DEBUG) << "read interrupted on port " << file->port().id();
  file->port().CancelRead(reinterpret_cast<uintptr_t>(req));
}

void ParkedReads::CancelAll(int error_number) {
  std::vector<std::shared_ptr<PortFile>> files;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [req, file] : reads_) files.push_back(file);
  }
  for (const auto& file : files) file->port().CancelAll(error_number);
}

void PortFile::Read(fuse_req_t req, size_t size, bool nonblocking, ParkedReads& parked) {
  // Register before the core can see the waiter: once it can, another thread may answer (and
  // free) the request at any moment. An interrupt that already arrived makes Abandoned() true.
  parked.Add(req, shared_from_this());
  fuse_req_interrupt_func(req, &OnInterrupt, &parked);
  port_->Receive(std::make_unique<FuseReadWaiter>(req, size, parked), nonblocking);
}

void PortFile::Write(fuse_req_t req, const char* data, size_t size) {
  absl::Status sent =
      port_->Send({reinterpret_cast<const uint8_t*>(data), size}, absl::Now());
  if (!sent.ok()) {
    IPN_LOG(DEBUG) << "write of " << size << " bytes on port " << port_->id()
                   << " refused: " << sent.message();
    fuse_reply_err(req, StatusToErrno(sent));
    return;
  }
  fuse_reply_write(req, size);
}

void PortFile::Poll(fuse_req_t req, fuse_pollhandle* handle) {
  std::unique_ptr<PollWaiter> waiter;
  if (handle != nullptr) waiter = std::make_unique<FusePollWaiter>(handle);
  const PollState state = port_->Poll(std::move(waiter));
  unsigned revents = 0;
  if (state.readable) revents |= POLLIN | POLLRDNORM;
  if (state.writable) revents |= POLLOUT | POLLWRNORM;
  fuse_reply_poll(req, revents);
}

}  // namespace ipnfs
