#include "tap/tap_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/errno_status.h"
#include "core/offload.h"
#include "tap/link_control.h"

namespace ipnfs {

absl::StatusOr<std::unique_ptr<TapDevice>> TapDevice::Create(const std::string& name) {
  ScopedFd fd(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    return ErrnoError(errno, absl::StrCat("opening /dev/net/tun: ", strerror(errno)));
  }
  ifreq request{};
  std::memcpy(request.ifr_name, name.data(), std::min(name.size(), sizeof(request.ifr_name) - 1));
  // IFF_TUN_EXCL: fail rather than attach to an interface of that name created meanwhile.
  request.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL;
  if (ioctl(fd.get(), TUNSETIFF, &request) != 0) {
    const int error = errno;
    if (error == EBUSY || error == EEXIST) {
      return ErrnoError(EEXIST, absl::StrCat("an interface named \"", name, "\" exists"));
    }
    if (error == EPERM) {
      return ErrnoError(EPERM, absl::StrCat("creating tap \"", name, "\" needs CAP_NET_ADMIN"));
    }
    return ErrnoError(error, absl::StrCat("TUNSETIFF ", name, ": ", strerror(error)));
  }
  // Until this returns, closing `fd` on error deletes the new interface again.
  const int header_bytes = static_cast<int>(Offload::kVnetHeaderBytes);
  if (ioctl(fd.get(), TUNSETVNETHDRSZ, &header_bytes) != 0) {
    return ErrnoError(errno, absl::StrCat("TUNSETVNETHDRSZ ", name, ": ", strerror(errno)));
  }
  if (ioctl(fd.get(), TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) != 0) {
    return ErrnoError(errno, absl::StrCat("TUNSETOFFLOAD ", name, ": ", strerror(errno)));
  }
  if (absl::Status up = SetLinkUp(name); !up.ok()) return up;
  return std::unique_ptr<TapDevice>(new TapDevice(name, std::move(fd)));
}

// The virtio-net header goes in the slot's headroom, right before the frame.
static_assert(Offload::kVnetHeaderBytes <= FrameSlot::kHeadroom);
static_assert(Offload::kVnetHeaderBytes <= WriteSlot::kMaxHeader);

void TapDevice::PrepareRead(io_uring_sqe* sqe, FrameSlot& slot) {
  io_uring_prep_read(sqe, fd_.get(), slot.frame() - Offload::kVnetHeaderBytes,
                     static_cast<unsigned>(Offload::kVnetHeaderBytes + slot.capacity), 0);
}

IncomingFrame TapDevice::ReceivedFrame(FrameSlot& slot, size_t bytes) {
  // A tap read returns the frame's full length even when the buffer took only part of it.
  if (bytes <= Offload::kVnetHeaderBytes || bytes - Offload::kVnetHeaderBytes > slot.capacity) {
    return {};
  }
  return {.bytes = {slot.frame(), bytes - Offload::kVnetHeaderBytes},
          .offload = Offload::FromVnetHeader(slot.frame() - Offload::kVnetHeaderBytes)};
}

void TapDevice::PrepareWrite(io_uring_sqe* sqe, WriteSlot& slot) {
  PrepareVnetWrite(sqe, fd_.get(), slot);
}

bool TapDevice::Exists() const {
  ifreq request{};
  return ioctl(fd_.get(), TUNGETIFF, &request) == 0 || errno != EBADFD;
}

}  // namespace ipnfs
