#include "core/test_packets.h"

namespace ipnfs::test_packets {
namespace {

void Append16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void Append32(Bytes& b, uint32_t v) {
  Append16(b, static_cast<uint16_t>(v >> 16));
  Append16(b, static_cast<uint16_t>(v));
}

void AppendEthernet(Bytes& b, uint16_t ethertype) {
  const Bytes macs = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
  b.insert(b.end(), macs.begin(), macs.end());
  Append16(b, ethertype);
}
// TCP ports 1000 -> 2000, ack 5, no options, window 1000, checksum field 0xabcd (a stand-in for
// the pseudo-header sum the kernel leaves there).
void AppendTcp(Bytes& b, uint32_t sequence, uint8_t flags) {
  Append16(b, 1000);
  Append16(b, 2000);
  Append32(b, sequence);
  Append32(b, 5);
  b.push_back(5 << 4);
  b.push_back(flags);
  Append16(b, 1000);
  Append16(b, 0xabcd);
  Append16(b, 0);
}
void AppendPayload(Bytes& b, size_t n) {
  for (size_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(i % 251));
}

}  // namespace

// Ethernet + IPv4 10.0.0.1 -> 10.0.0.2 (id 0x1234, DF, TTL 64) + TCP + `payload` bytes.
Bytes Tcp4Packet(size_t payload, uint8_t flags) {
  Bytes b;
  AppendEthernet(b, 0x0800);
  b.insert(b.end(), {0x45, 0});
  Append16(b, static_cast<uint16_t>(40 + payload));
  Append16(b, 0x1234);
  Append16(b, 0x4000);
  b.insert(b.end(), {64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2});
  AppendTcp(b, 0x01020304, flags);
  AppendPayload(b, payload);
  return b;
}

// Ethernet + IPv6 fd00::1 -> fd00::2 + TCP + `payload` bytes, sequence number `sequence`.
Bytes Tcp6Packet(size_t payload, uint32_t sequence, uint8_t flags) {
  Bytes b;
  AppendEthernet(b, 0x86dd);
  b.insert(b.end(), {0x60, 0, 0, 0});
  Append16(b, static_cast<uint16_t>(20 + payload));
  b.insert(b.end(), {6, 64});
  for (uint8_t last : {1, 2}) {
    b.push_back(0xfd);
    b.insert(b.end(), 14, 0);
    b.push_back(last);
  }
  AppendTcp(b, sequence, flags);
  AppendPayload(b, payload);
  return b;
}

uint16_t At16(const Bytes& b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

uint32_t At32(const Bytes& b, size_t at) {
  return static_cast<uint32_t>(At16(b, at)) << 16 | At16(b, at + 2);
}

}  // namespace ipnfs::test_packets
