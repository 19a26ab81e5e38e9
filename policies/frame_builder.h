// FrameBuilder: Ethernet frames as bytes, for tests; the one frame builder of the unit tests
// (policies/, core/, tap/) and of the integration tests (tests/).
//
//   std::vector<uint8_t> frame = FrameBuilder().To(b).From(a).Vlan(7).Build();
//   std::string written = FrameBuilder().From(a).PayloadText("hello").BuildString();
//
// Defaults: broadcast destination, source 02:00:00:00:00:01, untagged, EtherType 0x88b5 (local
// experimental), a 4-byte payload "ping". Also TCP segments over IPv4 and IPv6 in such frames
// (Tcp4Packet, Tcp6Packet), and the big-endian field readers tests check frames with.
// Test-only; thread-compatible; depends on nothing but MacAddress and the header constants.
#ifndef IPNFS_POLICIES_FRAME_BUILDER_H_
#define IPNFS_POLICIES_FRAME_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "policies/ethernet_frame.h"
#include "policies/mac_address.h"

namespace ipnfs {

// 02:00:00:00:00:<last>: a locally administered unicast address.
MacAddress TestMac(uint8_t last);

class FrameBuilder {
 public:
  static constexpr uint16_t kExperimentalEtherType = 0x88b5;  // IEEE "local experimental".
  static constexpr uint16_t kIpv4EtherType = 0x0800;
  static constexpr uint16_t kArpEtherType = 0x0806;
  static constexpr uint16_t kIpv6EtherType = 0x86dd;

  FrameBuilder& To(const MacAddress& destination);
  FrameBuilder& From(const MacAddress& source);
  // Adds an 802.1Q tag with `vlan` (and priority 0) after the source address.
  FrameBuilder& Vlan(VlanId vlan);
  // The EtherType after the addresses (after the tag, if any).
  FrameBuilder& EtherType(uint16_t ethertype);
  FrameBuilder& Payload(std::vector<uint8_t> payload);
  FrameBuilder& PayloadText(absl::string_view payload);

  std::vector<uint8_t> Build() const;
  // The same bytes in a string, as write(2) and the integration tests take them.
  std::string BuildString() const;

 private:
  MacAddress destination_ = MacAddress::Broadcast();
  MacAddress source_ = TestMac(1);
  std::optional<VlanId> vlan_;
  uint16_t ethertype_ = kExperimentalEtherType;
  std::vector<uint8_t> payload_ = {'p', 'i', 'n', 'g'};
};

// TCP over IPv4 in a frame from TestMac(1) to TestMac(2): IPv4 10.0.0.1 -> 10.0.0.2 (id 0x1234,
// DF, TTL 64, total length covering the whole packet), TCP 1000 -> 2000 (sequence 0x01020304,
// ack 5, no options, window 1000, checksum field 0xabcd: a stand-in for the pseudo-header sum the
// kernel leaves there), then `payload` bytes i % 251.
std::vector<uint8_t> Tcp4Packet(size_t payload, uint8_t tcp_flags);

// The same over IPv6 fd00::1 -> fd00::2, with sequence number `sequence`.
std::vector<uint8_t> Tcp6Packet(size_t payload, uint32_t sequence, uint8_t tcp_flags);

// The big-endian 16- and 32-bit fields at byte `at` of `bytes`; the caller checks the size.
uint16_t At16(absl::Span<const uint8_t> bytes, size_t at);
uint32_t At32(absl::Span<const uint8_t> bytes, size_t at);
uint16_t At16(absl::string_view bytes, size_t at);
uint32_t At32(absl::string_view bytes, size_t at);

}  // namespace ipnfs

#endif  // IPNFS_POLICIES_FRAME_BUILDER_H_
