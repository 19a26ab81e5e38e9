// Frame fixups: what a packet socket leaves undone in a received frame because the interface
// offloads it (a VLAN tag carried beside the frame; a checksum left for the hardware is completed
// with core/checksum.h), done in software so that the frame can go on as it would on a wire.
//
// Pure functions on bytes. Thread-safe.
#ifndef IPNFS_TAP_FRAME_FIXUP_H_
#define IPNFS_TAP_FRAME_FIXUP_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"

namespace ipnfs {

// Puts a VLAN tag (`tpid`, `tci`) back after the two MAC addresses of the frame that starts at
// `frame`, which must have 4 writable bytes in front of it: the tagged frame starts at frame - 4
// and is frame_size + 4 bytes long. False, changing nothing, when frame_size is below 12.
bool InsertVlanTag(uint8_t* frame, size_t frame_size, uint16_t tpid, uint16_t tci);

}  // namespace ipnfs

#endif  // IPNFS_TAP_FRAME_FIXUP_H_
