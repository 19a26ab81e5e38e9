#include "fs/port_file.h"

#include <poll.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/time/clock.h"
#include "core/errno_status.h"
#include "core/log.h"
#include "core/network.h"
#include "fs/fuse_waiters.h"
#include "fs/tun_ioctl.h"
#include "ipnfs/framing.h"
#include "ipnfs/ipnfs_ioctl.h"

namespace ipnfs {
namespace {

// A read request handed to the core; replies exactly once.
class FuseReadWaiter final : public FuseWaiter<ReadWaiter> {
 public:
  // A read of `size` bytes, of which the first `header` are a zeroed virtio-net header.
  FuseReadWaiter(fuse_req_t req, size_t size, uint32_t header, ParkedRequests* parked)
      : FuseWaiter(req, parked, size - header), header_(header) {}

  void Complete(const Packet& packet) override {
    static const char kZeros[16] = {};
    const iovec iov[2] = {{.iov_base = const_cast<char*>(kZeros), .iov_len = header_},
                          {.iov_base = const_cast<uint8_t*>(packet.bytes().data()),
                           .iov_len = std::min(packet.size(), max_bytes())}};
    fuse_reply_iov(Unpark(), header_ > 0 ? iov : iov + 1, header_ > 0 ? 2 : 1);
  }

 private:
  uint32_t header_;
};

// A framed read: every packet preceded by its 2-byte big-endian length.
class FramedReadWaiter final : public FuseWaiter<ReadWaiter> {
 public:
  FramedReadWaiter(fuse_req_t req, size_t size, ParkedRequests* parked)
      : FuseWaiter(req, parked, size) {}

  bool framed() const override { return true; }

  void Complete(const Packet& packet) override {
    const PacketRef* none = nullptr;
    Reply(absl::MakeSpan(none, 0), &packet);
  }
  void CompleteFrames(std::vector<PacketRef> packets) override { Reply(packets, nullptr); }

 private:
  static constexpr size_t kMaxFrame = IPNFS_MAX_FRAMED_PACKET;
  static_assert(kFrameHeaderBytes == IPNFS_FRAME_HEADER_BYTES);

  // Replies with `packets`, or with `single` when given.
  void Reply(absl::Span<const PacketRef> packets, const Packet* single) {
    const size_t count = single != nullptr ? 1 : packets.size();
    std::vector<uint8_t> headers(2 * count);
    std::vector<iovec> iov(2 * count);
    size_t room = max_bytes();
    for (size_t i = 0; i < count; ++i) {
      const Packet& packet = single != nullptr ? *single : *packets[i];
      const size_t length =
          std::min({packet.size(), kMaxFrame,
                    room > kFrameHeaderBytes ? room - kFrameHeaderBytes : size_t{0}});
      ipnfs_frame_encode_header(length, &headers[2 * i]);  // Cut to kMaxFrame: always encodes.
      iov[2 * i] = {.iov_base = &headers[2 * i], .iov_len = kFrameHeaderBytes};
      iov[2 * i + 1] = {.iov_base = const_cast<uint8_t*>(packet.bytes().data()), .iov_len = length};
      room -= std::min(room, kFrameHeaderBytes + length);
    }
    // Any number of iovecs: the transport gathers what /dev/fuse's writev cannot take.
    fuse_reply_iov(Unpark(), iov.data(), static_cast<int>(iov.size()));
  }
};

// A write request handed to the core; replies exactly once.
class FuseSendWaiter final : public FuseWaiter<SendWaiter> {
 public:
  // A write that reports `size` bytes written once its packet is sent.
  FuseSendWaiter(fuse_req_t req, size_t size, ParkedRequests* parked)
      : FuseWaiter(req, parked), size_(size) {}

  void Complete() override { fuse_reply_write(Unpark(), size_); }

 private:
  size_t size_;
};

}  // namespace

void PortFile::Read(fuse_req_t req, size_t size, Waiting waiting, ParkedRequests& parked) {
  if (framed_.load(std::memory_order_relaxed)) {
    if (size <= ReadWaiter::kFrameHeaderBytes) {
      fuse_reply_err(req, EINVAL);
      return;
    }
    ParkedRequests* registry = Register(req, waiting, parked);
    port_->Receive(std::make_unique<FramedReadWaiter>(req, size, registry), waiting, absl::Now());
    return;
  }
  const uint32_t header = vnet_header_.load(std::memory_order_relaxed);
  if (size <= header) {
    fuse_reply_err(req, EINVAL);  // No room for a packet after the virtio-net header.
    return;
  }
  ParkedRequests* registry = Register(req, waiting, parked);
  port_->Receive(std::make_unique<FuseReadWaiter>(req, size, header, registry), waiting,
                 absl::Now());
}

void PortFile::Write(fuse_req_t req, const char* data, size_t size, Waiting waiting,
                     ParkedRequests& parked) {
  if (framed_.load(std::memory_order_relaxed)) {
    WriteFrames(req, data, size, waiting, parked);
    return;
  }
  const uint32_t header = vnet_header_.load(std::memory_order_relaxed);
  if (size < header) {
    fuse_reply_err(req, EINVAL);  // Shorter than the virtio-net header it must start with.
    return;
  }
  const absl::Span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(data) + header,
                                        size - header);
  // Under "drop" a write is answered at once (unless the flow changes this very moment): it skips
  // the registry.
  const bool answered_at_once = port_->network().flow() == Flow::kDrop;
  ParkedRequests* registry = Register(req, answered_at_once ? Waiting::kNever : waiting, parked);
  port_->Send(bytes, absl::Now(), std::make_unique<FuseSendWaiter>(req, size, registry), waiting);
}

void PortFile::WriteFrames(fuse_req_t req, const char* data, size_t size, Waiting waiting,
                           ParkedRequests& parked) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(data);
  // Check every frame first: a malformed buffer (one that does not end with a whole frame) sends
  // nothing. Empty frames are well formed: sending them sends nothing.
  ipnfs_frame frame{};
  size_t offset = 0;
  while (offset < size &&
         ipnfs_frame_parse(bytes + offset, size - offset, &frame) == IPNFS_FRAME_COMPLETE) {
    offset += frame.frame_bytes;
  }
  if (offset != size) {
    fuse_reply_err(req, EINVAL);
    return;
  }
  const absl::Time now = absl::Now();
  size_t sent = 0;
  while (sent < size) {
    ipnfs_frame_parse(bytes + sent, size - sent, &frame);  // Checked above: complete.
    const absl::Span<const uint8_t> packet(frame.packet, frame.packet_bytes);
    absl::Status status = port_->Send(packet, now);
    if (!status.ok()) {
      if (sent > 0) break;  // Report the frames that went.
      if (StatusToErrno(status) != EAGAIN || waiting == Waiting::kNever) {
        fuse_reply_err(req, StatusToErrno(status));
        return;
      }
      // A blocking write never fails with EAGAIN: the first frame waits for room, and the reply
      // reports it alone (a short write).
      ParkedRequests* registry = Register(req, Waiting::kPark, parked);
      port_->Send(packet, now, std::make_unique<FuseSendWaiter>(req, frame.frame_bytes, registry),
                  Waiting::kPark);
      return;
    }
    sent += frame.frame_bytes;
  }
  fuse_reply_write(req, sent);
}

void PortFile::Ioctl(fuse_req_t req, unsigned int cmd, const void* in, size_t in_size) {
  if (cmd == IPNFS_IOC_FRAMED) {
    int on = 0;
    if (in_size < sizeof(on)) {
      fuse_reply_err(req, EINVAL);
      return;
    }
    std::memcpy(&on, in, sizeof(on));
    framed_.store(on != 0);
    fuse_reply_ioctl(req, 0, nullptr, 0);
    return;
  }
  uint32_t header = vnet_header_.load();
  const IoctlReply reply = HandleTunIoctl(cmd, {static_cast<const uint8_t*>(in), in_size},
                                          port_->mode() == PortMode::kSendReceive, &header);
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
  const PollState state = port_->Poll(std::move(waiter), absl::Now());
  unsigned revents = 0;
  if (state.readable) revents |= POLLIN | POLLRDNORM;
  if (state.writable) revents |= POLLOUT | POLLWRNORM;
  fuse_reply_poll(req, revents);
}

}  // namespace ipnfs
