// MacAddress: a 48-bit IEEE 802 (Ethernet) address, as a plain value.
//
// Ordered byte by byte, so sorting addresses sorts their text form too. Pure value type;
// thread-compatible.
#ifndef IPNFS_POLICIES_MAC_ADDRESS_H_
#define IPNFS_POLICIES_MAC_ADDRESS_H_

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ipnfs {

class MacAddress {
 public:
  static constexpr size_t kSize = 6;
  using Bytes = std::array<uint8_t, kSize>;

  // The all-zero address.
  constexpr MacAddress() = default;
  constexpr explicit MacAddress(const Bytes& bytes) : bytes_(bytes) {}

  // ff:ff:ff:ff:ff:ff.
  static constexpr MacAddress Broadcast() {
    return MacAddress(Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  }

  const Bytes& bytes() const { return bytes_; }

  // True for group addresses (the I/G bit: bit 0 of the first byte), broadcast included.
  bool IsMulticast() const { return (bytes_[0] & 0x01) != 0; }
  bool IsBroadcast() const { return *this == Broadcast(); }
  bool IsZero() const { return *this == MacAddress(); }

  // True for an address a station may send from: neither a group address nor all-zero (what
  // Linux calls is_valid_ether_addr). Only such addresses are ever learned.
  bool IsValidUnicast() const { return !IsMulticast() && !IsZero(); }

  // Lowercase hex, colon-separated: "02:00:5e:10:00:0a".
  std::string ToString() const;

  friend bool operator==(const MacAddress&, const MacAddress&) = default;
  friend std::strong_ordering operator<=>(const MacAddress&, const MacAddress&) = default;

 private:
  Bytes bytes_{};
};

}  // namespace ipnfs

#endif  // IPNFS_POLICIES_MAC_ADDRESS_H_
