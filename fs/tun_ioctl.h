// TunIoctl: the tap ioctls QEMU issues on a `-netdev tap,fd=N` file descriptor, answered for a
// network file so that QEMU accepts it.
//
// FUSE passes only "restricted" ioctls for regular files: the kernel copies _IOC_SIZE(cmd) bytes
// in (for _IOW) and out (for _IOR). Supported: TUNGETIFF (4 zero bytes: no IFF_VNET_HDR),
// TUNGETVNETHDRSZ / TUNSETVNETHDRSZ (the per-port virtio-net header length, starting at 0; SET
// accepts 0, 10, 12 and whatever GET returned), and TUNSETSNDBUF, TUNSETQUEUE, TUNSETVNETLE,
// TUNSETVNETBE (accepted, no effect). Anything else: ENOTTY. Pure logic; thread-compatible.
#ifndef IPNFS_FS_TUN_IOCTL_H_
#define IPNFS_FS_TUN_IOCTL_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace ipnfs {

struct IoctlReply {
  int error = 0;             // 0 or an errno.
  std::vector<uint8_t> out;  // What the kernel copies back to the caller.
};

// Answers `cmd` with input `in` for a port whose virtio-net header length is `*vnet_header`,
// which TUNSETVNETHDRSZ changes. TUNGETIFF fails with EBADF on a port that cannot both send and
// receive (`read_write` false), so that QEMU refuses a file opened with `3<` at start-up instead
// of losing every packet the guest sends.
IoctlReply HandleTunIoctl(unsigned int cmd, absl::Span<const uint8_t> in, bool read_write,
                          uint32_t* vnet_header);

}  // namespace ipnfs

#endif  // IPNFS_FS_TUN_IOCTL_H_
