// TapDevice: a kernel tap interface (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR) that the daemon creates,
// as a Link for the event loop. Every frame read or written is preceded by a 10-byte virtio-net
// header, and the tap has checksum and TCP segmentation offloads on (TUNSETOFFLOAD TUN_F_CSUM |
// TUN_F_TSO4 | TUN_F_TSO6): the kernel hands over TCP packets of up to 64 KiB with their checksum
// left partial, and takes such packets back; they cross networks with their Offload attached.
//
// Reading the device's file descriptor gives the frames the kernel sends on the interface; writing
// one hands the kernel a frame received on it. The interface lives as long as the TapDevice: it is
// not persistent, so closing the descriptor deletes it. It keeps working when moved to another
// network namespace. Create on any thread; then used by the event loop thread only.
#ifndef IPNFS_TAP_TAP_DEVICE_H_
#define IPNFS_TAP_TAP_DEVICE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tap/link.h"
#include "uring/scoped_fd.h"

namespace ipnfs {

class TapDevice final : public Link {
 public:
  // Creates tap interface `name` (a valid name, see ValidateInterfaceName) in the calling thread's
  // network namespace and sets it up. EEXIST when an interface has that name already (never
  // attaches to an existing tap), EPERM without CAP_NET_ADMIN. On error nothing is left behind.
  static absl::StatusOr<std::unique_ptr<TapDevice>> Create(const std::string& name);

  InterfaceKind kind() const override { return InterfaceKind::kTap; }
  const std::string& name() const override { return name_; }
  int fd() const override { return fd_.get(); }
  void PrepareRead(io_uring_sqe* sqe, FrameSlot& slot) override;
  IncomingFrame ReceivedFrame(FrameSlot& slot, size_t bytes) override;
  bool offloads() const override { return true; }
  void PrepareWrite(io_uring_sqe* sqe, WriteSlot& slot) override;
  // False once the interface was deleted (the device reports EBADFD), wherever it lives.
  bool Exists() const override;

 private:
  TapDevice(std::string name, ScopedFd fd) : name_(std::move(name)), fd_(std::move(fd)) {}

  const std::string name_;
  ScopedFd fd_;
};

}  // namespace ipnfs

#endif  // IPNFS_TAP_TAP_DEVICE_H_
