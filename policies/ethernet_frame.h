// EthernetFrame: the addresses and VLAN of an Ethernet frame, read with bounds checks.
//
// A frame is destination MAC (6 bytes), source MAC (6), then either the EtherType (2) or an
// IEEE 802.1Q tag: TPID 0x8100 (2) and TCI (2), whose low 12 bits are the VLAN id, followed by
// the inner EtherType (2). Only one tag is read: a QinQ outer tag (0x88a8) counts as an EtherType,
// so such frames are on VLAN 0. A priority tag (VLAN id 0) puts the frame on VLAN 0, like an
// untagged one (802.1Q). No FCS is expected. Pure value type; thread-compatible.
#ifndef IPNFS_POLICIES_ETHERNET_FRAME_H_
#define IPNFS_POLICIES_ETHERNET_FRAME_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "policies/mac_address.h"

namespace ipnfs {

// An 802.1Q VLAN id (12 bits); 0 for untagged frames.
using VlanId = uint16_t;

class EthernetFrame {
 public:
  static constexpr size_t kHeaderSize = 14;        // Destination, source, EtherType.
  static constexpr size_t kTaggedHeaderSize = 18;  // Destination, source, 802.1Q tag, EtherType.
  static constexpr uint16_t kVlanTpid = 0x8100;
  static constexpr VlanId kVlanMask = 0x0fff;

  // Reads the header of `frame`; keeps no reference to it. InvalidArgument when `frame` is
  // shorter than kHeaderSize, or is tagged (TPID 0x8100 at offset 12) and shorter than
  // kTaggedHeaderSize.
  static absl::StatusOr<EthernetFrame> Parse(absl::Span<const uint8_t> frame);

  const MacAddress& destination() const { return destination_; }
  const MacAddress& source() const { return source_; }
  // True when the frame carries an 802.1Q tag (even a priority tag with VLAN id 0).
  bool tagged() const { return tagged_; }
  // The tag's VLAN id, or 0 when untagged.
  VlanId vlan() const { return vlan_; }

 private:
  EthernetFrame(const MacAddress& destination, const MacAddress& source, bool tagged, VlanId vlan)
      : destination_(destination), source_(source), tagged_(tagged), vlan_(vlan) {}

  MacAddress destination_;
  MacAddress source_;
  bool tagged_;
  VlanId vlan_;
};

}  // namespace ipnfs

#endif  // IPNFS_POLICIES_ETHERNET_FRAME_H_
