// Internet checksums (RFC 1071) over packet bytes: the ones' complement sums that IPv4 headers and
// TCP/UDP segments carry, and the completion of a partial checksum left for "hardware".
//
// Pure functions on bytes. Thread-safe.
#ifndef IPNFS_CORE_CHECKSUM_H_
#define IPNFS_CORE_CHECKSUM_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"

namespace ipnfs {

// Adds `bytes`, as big-endian 16-bit words, to the running sum `sum`. An odd last byte counts as
// the high half of a word, so only the last span of a sum may have an odd length.
uint32_t ChecksumAdd(uint32_t sum, absl::Span<const uint8_t> bytes);

// The checksum field for running sum `sum`: its folded ones' complement.
uint16_t ChecksumFinish(uint32_t sum);

// Completes a partial checksum (Linux CHECKSUM_PARTIAL, virtio VIRTIO_NET_HDR_F_NEEDS_CSUM): the
// Internet checksum of frame[start, end) goes into the 16 bits at start + offset, which hold the
// pseudo-header sum. A result of 0 is stored as 0xffff (same value; 0 means "none" for UDP). False,
// leaving the frame alone, when start or the field lie outside the frame.
bool CompletePartialChecksum(absl::Span<uint8_t> frame, size_t start, size_t offset);

}  // namespace ipnfs

#endif  // IPNFS_CORE_CHECKSUM_H_
