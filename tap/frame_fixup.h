// Frame fixups: what a packet socket leaves undone in a received frame because the interface
// offloads it (a checksum left for the hardware, a VLAN tag carried beside the frame), done in
// software so that the frame can go on to other interfaces as it would on a wire.
//
// Pure functions on bytes. Thread-safe.
#ifndef IPNFS_TAP_FRAME_FIXUP_H_
#define IPNFS_TAP_FRAME_FIXUP_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"

namespace ipnfs {

// Completes a partial checksum (Linux CHECKSUM_PARTIAL, virtio VIRTIO_NET_HDR_F_NEEDS_CSUM): the
// Internet checksum of frame[start, end) goes into the 16 bits at start + offset, which hold the
// pseudo-header sum. A result of 0 is stored as 0xffff (same value; 0 means "none" for UDP). False,
// leaving the frame alone, when start or the field lie outside the frame.
bool CompletePartialChecksum(absl::Span<uint8_t> frame, size_t start, size_t offset);

// Puts a VLAN tag (`tpid`, `tci`) back after the two MAC addresses of the frame that starts at
// `frame`, which must have 4 writable bytes in front of it: the tagged frame starts at frame - 4
// and is frame_size + 4 bytes long. False, changing nothing, when frame_size is below 12.
bool InsertVlanTag(uint8_t* frame, size_t frame_size, uint16_t tpid, uint16_t tci);

}  // namespace ipnfs

#endif  // IPNFS_TAP_FRAME_FIXUP_H_
