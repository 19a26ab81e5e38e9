// Test packets: hand-built Ethernet frames carrying TCP over IPv4 or IPv6, for the tests of
// offload resolution and of the network core.
#ifndef IPNFS_CORE_TEST_PACKETS_H_
#define IPNFS_CORE_TEST_PACKETS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ipnfs::test_packets {

using Bytes = std::vector<uint8_t>;

// Big-endian fields of `b` at byte `at`.
uint16_t At16(const Bytes& b, size_t at);
uint32_t At32(const Bytes& b, size_t at);

// Ethernet 02:00:00:00:00:01 -> 02:00:00:00:00:02, IPv4 10.0.0.1 -> 10.0.0.2 (id 0x1234, DF,
// TTL 64, total length covering the whole packet), TCP 1000 -> 2000 (sequence 0x01020304, ack 5,
// no options, window 1000, checksum field 0xabcd), then `payload` bytes i % 251.
Bytes Tcp4Packet(size_t payload, uint8_t flags);

// The same over IPv6 fd00::1 -> fd00::2, with sequence number `sequence`.
Bytes Tcp6Packet(size_t payload, uint32_t sequence, uint8_t flags);

}  // namespace ipnfs::test_packets

#endif  // IPNFS_CORE_TEST_PACKETS_H_
