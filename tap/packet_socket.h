// PacketSocket: an AF_PACKET socket bound to an existing interface (ETH_P_ALL), as a Link: the
// daemon "grabs" the interface. Every frame the interface receives is read (the host keeps
// receiving it too), and frames written are transmitted on the interface.
//
// Frames the interface transmits, including the ones written here, are never read back
// (PACKET_IGNORE_OUTGOING), so a grabbed interface cannot loop frames into its own network.
// Offloads are undone on the way in: a VLAN tag the interface carried beside the frame is put
// back, and a checksum left to the hardware (veth, for one) is completed. Frames merged by GRO or
// TSO arrive as one large frame and are forwarded as such when they fit.
// Open on any thread; then used by the event loop thread only.
#ifndef IPNFS_TAP_PACKET_SOCKET_H_
#define IPNFS_TAP_PACKET_SOCKET_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tap/link.h"
#include "uring/scoped_fd.h"

namespace ipnfs {

class PacketSocket final : public Link {
 public:
  // Grabs the existing Ethernet interface `name` (a valid name). EINVAL when there is no such
  // interface here, or it is loopback or not Ethernet; EPERM without CAP_NET_RAW.
  static absl::StatusOr<std::unique_ptr<PacketSocket>> Open(const std::string& name);

  InterfaceKind kind() const override { return InterfaceKind::kGrab; }
  const std::string& name() const override { return name_; }
  int fd() const override { return fd_.get(); }
  void PrepareRead(io_uring_sqe* sqe, FrameSlot& slot) override;
  IncomingFrame ReceivedFrame(FrameSlot& slot, size_t bytes) override;
  // Frames written go out as they are: the port gets ordinary frames.
  bool offloads() const override { return false; }
  void PrepareWrite(io_uring_sqe* sqe, WriteSlot& slot) override;
  // False once the interface is gone from this network namespace (deleted or moved away).
  bool Exists() const override;

 private:
  PacketSocket(std::string name, int ifindex, ScopedFd fd)
      : name_(std::move(name)), ifindex_(ifindex), fd_(std::move(fd)) {}

  const std::string name_;
  const int ifindex_;
  ScopedFd fd_;
};

}  // namespace ipnfs

#endif  // IPNFS_TAP_PACKET_SOCKET_H_
