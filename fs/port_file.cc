#include "fs/port_file.h"

#include <poll.h>
#include <sys/uio.h>

#include <cerrno>
#include <vector>

#include "absl/time/clock.h"
#include "core/errno_status.h"
#include "core/log.h"
#include "core/network.h"
#include "fs/tun_ioctl.h"

namespace ipnfs {
namespace {

// A read request handed to the core; replies exactly once.
class FuseReadWaiter final : public ReadWaiter {
 public:
  // A read of `size` bytes, of which the first `header` are a zeroed virtio-net header.
  FuseReadWaiter(fuse_req_t req, size_t size, uint32_t header, ParkedRequests* parked)
      : ReadWaiter(RequestId(req), size - header),
        req_(req),
        header_(header),
        parked_(parked) {}

  bool Abandoned() const override { return fuse_req_interrupted(req_); }

  void Complete(const Packet& packet) override {
    if (parked_ != nullptr) parked_->Remove(req_);
    static const char kZeros[16] = {};
    const iovec iov[2] = {
        {.iov_base = const_cast<char*>(kZeros), .iov_len = header_},
        {.iov_base = const_cast<uint8_t*>(packet.bytes().data()),
         .iov_len = std::min(packet.size(), max_bytes())}};
    fuse_reply_iov(req_, header_ > 0 ? iov : iov + 1, header_ > 0 ? 2 : 1);
  }

  void Fail(int error_number) override {
    if (parked_ != nullptr) parked_->Remove(req_);
    fuse_reply_err(req_, error_number);
  }

 private:
  fuse_req_t req_;
  uint32_t header_;
  ParkedRequests* parked_;  // Null when the request is never parked.
};

// A write request handed to the core; replies exactly once.
class FuseSendWaiter final : public SendWaiter {
 public:
  FuseSendWaiter(fuse_req_t req, size_t size, ParkedRequests* parked)
      : SendWaiter(RequestId(req)), req_(req), size_(size), parked_(parked) {}

  bool Abandoned() const override { return fuse_req_interrupted(req_); }

  void Complete() override {
    if (parked_ != nullptr) parked_->Remove(req_);
    fuse_reply_write(req_, size_);
  }

  void Fail(int error_number) override {
    if (parked_ != nullptr) parked_->Remove(req_);
    fuse_reply_err(req_, error_number);
  }

 private:
  fuse_req_t req_;
  size_t size_;
  ParkedRequests* parked_;  // Null when the request is never parked.
};


}  // namespace

void PortFile::Read(fuse_req_t req, size_t size, bool nonblocking, ParkedRequests& parked) {
  const uint32_t header = vnet_header_.load(std::memory_order_relaxed);
  if (size <= header) {
    fuse_reply_err(req, EINVAL);  // No room for a packet after the virtio-net header.
    return;
  }
  if (nonblocking) {  // Never parked: no registration needed.
    port_->Receive(std::make_unique<FuseReadWaiter>(req, size, header, nullptr), true);
    return;
  }
  Register(req, parked);
  port_->Receive(std::make_unique<FuseReadWaiter>(req, size, header, &parked), false);
}

void PortFile::Write(fuse_req_t req, const char* data, size_t size, bool nonblocking,
                     ParkedRequests& parked) {
  const uint32_t header = vnet_header_.load(std::memory_order_relaxed);
  if (size < header) {
    fuse_reply_err(req, EINVAL);  // Shorter than the virtio-net header it must start with.
    return;
  }
  const absl::Span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(data) + header,
                                        size - header);
  if (nonblocking || port_->network().flow() == Flow::kDrop) {
    // Answered at once (unless the flow changes this very moment): skip the registry.
    port_->Send(bytes, absl::Now(), std::make_unique<FuseSendWaiter>(req, size, nullptr),
                nonblocking);
    return;
  }
  Register(req, parked);
  port_->Send(bytes, absl::Now(), std::make_unique<FuseSendWaiter>(req, size, &parked), false);
}

void PortFile::Ioctl(fuse_req_t req, unsigned int cmd, const void* in, size_t in_size) {
  uint32_t header = vnet_header_.load();
  const IoctlReply reply =
      HandleTunIoctl(cmd, {static_cast<const uint8_t*>(in), in_size}, &header);
  vnet_header_.store(header);
  if (reply.error != 0) {
    IPN_LOG(DEBUG) << "ioctl 0x" << std::hex << cmd << " on port " << std::dec << port_->id()
                   << ": errno " << reply.error;
    fuse_reply_err(req, reply.error);
    return;
  }
  fuse_reply_ioctl(req, 0, reply.out.data(), reply.out.size());
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
