#include "fs/tun_ioctl.h"

#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

namespace ipnfs {
namespace {

std::vector<uint8_t> IntBytes(int value) {
  std::vector<uint8_t> bytes(sizeof(value));
  std::memcpy(bytes.data(), &value, sizeof(value));
  return bytes;
}

bool ReadInt(absl::Span<const uint8_t> in, int* value) {
  if (in.size() < sizeof(*value)) return false;
  std::memcpy(value, in.data(), sizeof(*value));
  return true;
}

}  // namespace

IoctlReply HandleTunIoctl(unsigned int cmd, absl::Span<const uint8_t> in, bool read_write,
                          uint32_t* vnet_header) {
  switch (cmd) {
    case TUNGETIFF:
      if (!read_write) return IoctlReply{.error = EBADF, .out = {}};
      // QEMU reads ifr_flags (beyond these 4 bytes) after zeroing its ifreq: no IFF_VNET_HDR.
      return IoctlReply{.error = 0, .out = std::vector<uint8_t>(_IOC_SIZE(TUNGETIFF), 0)};
    case TUNGETVNETHDRSZ:
      return IoctlReply{.error = 0, .out = IntBytes(static_cast<int>(*vnet_header))};
    case TUNSETVNETHDRSZ: {
      int length = 0;
      if (!ReadInt(in, &length)) return IoctlReply{.error = EINVAL, .out = {}};
      if (length != 0 && length != 10 && length != 12 && length != static_cast<int>(*vnet_header)) {
        return IoctlReply{.error = EINVAL, .out = {}};
      }
      *vnet_header = static_cast<uint32_t>(length);
      return IoctlReply{};
    }
    case TUNSETSNDBUF:
    case TUNSETQUEUE:
    case TUNSETVNETLE:
    case TUNSETVNETBE:
      return IoctlReply{};
    default:
      return IoctlReply{.error = ENOTTY, .out = {}};
  }
}

}  // namespace ipnfs
