#include "policies/ethernet_frame.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ipnfs {
namespace {

constexpr size_t kDestinationOffset = 0;
constexpr size_t kSourceOffset = 6;
constexpr size_t kTypeOffset = 12;
constexpr size_t kTciOffset = 14;

// The only way this file reads frame bytes: the `length` bytes of `frame` at `offset`, or
// InvalidArgument naming `what` is missing.
absl::StatusOr<absl::Span<const uint8_t>> BytesAt(absl::Span<const uint8_t> frame, size_t offset,
                                                  size_t length, absl::string_view what) {
  if (offset > frame.size() || length > frame.size() - offset) {
    return absl::InvalidArgumentError(absl::StrCat("a frame of ", frame.size(),
                                                   " bytes is too short for its ", what, " (needs ",
                                                   offset + length, " bytes)"));
  }
  return frame.subspan(offset, length);
}

MacAddress ToMac(absl::Span<const uint8_t> bytes) {
  MacAddress::Bytes mac;
  std::copy_n(bytes.begin(), mac.size(), mac.begin());
  return MacAddress(mac);
}

uint16_t ToU16(absl::Span<const uint8_t> bytes) {
  return static_cast<uint16_t>(bytes[0] << 8 | bytes[1]);  // Network byte order.
}

}  // namespace

absl::StatusOr<EthernetFrame> EthernetFrame::Parse(absl::Span<const uint8_t> frame) {
  // Checking the whole header first gives one message for every too-short untagged frame.
  absl::StatusOr<absl::Span<const uint8_t>> header =
      BytesAt(frame, 0, kHeaderSize, "Ethernet header");
  if (!header.ok()) return header.status();
  const MacAddress destination = ToMac(header->subspan(kDestinationOffset, MacAddress::kSize));
  const MacAddress source = ToMac(header->subspan(kSourceOffset, MacAddress::kSize));
  if (ToU16(header->subspan(kTypeOffset, 2)) != kVlanTpid) {
    return EthernetFrame(destination, source, /*tagged=*/false, /*vlan=*/0);
  }
  absl::StatusOr<absl::Span<const uint8_t>> tag =
      BytesAt(frame, kTciOffset, kTaggedHeaderSize - kTciOffset, "802.1Q tag and EtherType");
  if (!tag.ok()) return tag.status();
  const VlanId vlan = ToU16(tag->subspan(0, 2)) & kVlanMask;
  return EthernetFrame(destination, source, /*tagged=*/true, vlan);
}

}  // namespace ipnfs
