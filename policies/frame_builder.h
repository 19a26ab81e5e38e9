// FrameBuilder: Ethernet frames as byte vectors, for tests.
//
//   std::vector<uint8_t> frame = FrameBuilder().To(b).From(a).Vlan(7).Build();
//
// Defaults: broadcast destination, source 02:00:00:00:00:01, untagged, EtherType 0x88b5 (local
// experimental), a 4-byte payload. Test-only; thread-compatible.
#ifndef IPNFS_POLICIES_FRAME_BUILDER_H_
#define IPNFS_POLICIES_FRAME_BUILDER_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "policies/ethernet_frame.h"
#include "policies/mac_address.h"

namespace ipnfs {

// 02:00:00:00:00:<last>: a locally administered unicast address.
MacAddress TestMac(uint8_t last);

class FrameBuilder {
 public:
  FrameBuilder& To(const MacAddress& destination);
  FrameBuilder& From(const MacAddress& source);
  // Adds an 802.1Q tag with `vlan` (and priority 0) after the source address.
  FrameBuilder& Vlan(VlanId vlan);
  FrameBuilder& Payload(std::vector<uint8_t> payload);

  std::vector<uint8_t> Build() const;

 private:
  MacAddress destination_ = MacAddress::Broadcast();
  MacAddress source_ = TestMac(1);
  std::optional<VlanId> vlan_;
  std::vector<uint8_t> payload_ = {'p', 'i', 'n', 'g'};
};

}  // namespace ipnfs

#endif  // IPNFS_POLICIES_FRAME_BUILDER_H_
