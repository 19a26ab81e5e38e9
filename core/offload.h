// Offload: the work a packet leaves to whoever finally transmits it, as virtio-net describes it
// (struct virtio_net_hdr of <linux/virtio_net.h>): a transport checksum to complete, and the
// segmentation of one large TCP packet (GSO/TSO) into frames of gso_size payload bytes each.
//
// A tap with offloads hands the daemon such packets (up to 64 KiB); they cross a network with this
// description attached and reach receivers that take offloads (other such taps) unchanged. Every
// other receiver gets the ordinary frames they stand for (core/segmentation.h).
//
// Plain values. Thread-safe.
#ifndef IPNFS_CORE_OFFLOAD_H_
#define IPNFS_CORE_OFFLOAD_H_

#include <cstddef>
#include <cstdint>

namespace ipnfs {

struct Offload {
  // flags.
  static constexpr uint8_t kNeedsChecksum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM.
  static constexpr uint8_t kDataValid = 2;      // VIRTIO_NET_HDR_F_DATA_VALID.
  // gso_type.
  static constexpr uint8_t kGsoNone = 0;
  static constexpr uint8_t kGsoTcp4 = 1;
  static constexpr uint8_t kGsoUdp = 3;  // UFO (IP fragmentation): never asked for.
  static constexpr uint8_t kGsoTcp6 = 4;
  static constexpr uint8_t kGsoUdpL4 = 5;  // USO: never asked for.
  static constexpr uint8_t kGsoEcn = 0x80;

  // The virtio-net header as taps read and write it (little-endian, 10 bytes).
  static constexpr size_t kVnetHeaderBytes = 10;
  // The largest packet with an offload: a 64 KiB GSO packet with its link-layer headers.
  static constexpr size_t kMaxPacketBytes = 65536 + 256;

  uint8_t flags = 0;
  uint8_t gso_type = kGsoNone;
  uint16_t hdr_len = 0;  // A hint only: segmentation finds the headers' length itself.
  uint16_t gso_size = 0;
  uint16_t csum_start = 0;
  uint16_t csum_offset = 0;

  bool needs_checksum() const { return (flags & kNeedsChecksum) != 0; }
  bool segmented() const { return (gso_type & ~kGsoEcn) != kGsoNone; }
  // True for an ordinary frame, ready for any receiver as it is.
  bool plain() const { return !needs_checksum() && !segmented(); }

  static Offload FromVnetHeader(const uint8_t* header) {
    auto le16 = [header](size_t at) {
      return static_cast<uint16_t>(header[at] | header[at + 1] << 8);
    };
    return Offload{.flags = header[0],
                   .gso_type = header[1],
                   .hdr_len = le16(2),
                   .gso_size = le16(4),
                   .csum_start = le16(6),
                   .csum_offset = le16(8)};
  }
  void ToVnetHeader(uint8_t* header) const {
    auto le16 = [header](size_t at, uint16_t value) {
      header[at] = static_cast<uint8_t>(value);
      header[at + 1] = static_cast<uint8_t>(value >> 8);
    };
    header[0] = flags;
    header[1] = gso_type;
    le16(2, hdr_len);
    le16(4, gso_size);
    le16(6, csum_start);
    le16(8, csum_offset);
  }

  bool operator==(const Offload&) const = default;
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_OFFLOAD_H_
