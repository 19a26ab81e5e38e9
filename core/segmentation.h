// Segmentation: turns a packet that carries an Offload into the ordinary frames it stands for, for
// receivers that cannot take offloads (network files, monitors, grabbed interfaces): a partial
// checksum is completed; a GSO packet (TCP over IPv4 or IPv6, after up to two VLAN tags) is cut
// into segments of gso_size payload bytes, each with its own IP length (and IPv4 id and header
// checksum), TCP sequence number, flags (FIN and PSH on the last segment only, CWR on the first
// only) and a complete TCP checksum.
//
// Pure functions on bytes. Thread-safe.
#ifndef IPNFS_CORE_SEGMENTATION_H_
#define IPNFS_CORE_SEGMENTATION_H_

#include <cstddef>
#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/offload.h"

namespace ipnfs {

// The size of the largest ordinary frame that `frame` with `offload` resolves to: the frame itself
// unless it is a GSO packet. EINVAL when it cannot be resolved: a checksum field outside the frame;
// for GSO, a type other than TCPv4/TCPv6, a gso_size of 0, or headers that are not Ethernet + IP
// (no IPv6 extension headers) + TCP, cut short or inconsistent with the frame's length.
absl::StatusOr<size_t> LargestResolvedFrame(absl::Span<const uint8_t> frame,
                                            const Offload& offload);

// Calls emit() with each ordinary frame `frame` with `offload` stands for, in order: one for a
// plain frame or one that only needs its checksum, gso_size-sized segments for a GSO packet. The
// span handed to emit() is valid during the call only. Errors as LargestResolvedFrame(), before
// anything is emitted.
absl::Status ResolveOffload(absl::Span<const uint8_t> frame, const Offload& offload,
                            absl::FunctionRef<void(absl::Span<const uint8_t>)> emit);

}  // namespace ipnfs

#endif  // IPNFS_CORE_SEGMENTATION_H_
