// PcapFormat: the bytes of a classic pcap file (microsecond timestamps, version 2.4), as read
// from /ipn/.pcap/NETWORK. Pure functions; thread-safe.
#ifndef IPNFS_FS_PCAP_FORMAT_H_
#define IPNFS_FS_PCAP_FORMAT_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "core/network_config.h"

namespace ipnfs {

inline constexpr size_t kPcapGlobalHeaderSize = 24;
inline constexpr size_t kPcapRecordHeaderSize = 16;

// The pcap link type number: 1 (Ethernet) or 147 (USER0).
uint32_t PcapLinkType(LinkType type);

// Appends the 24-byte global header (magic 0xa1b2c3d4 in host byte order, version 2.4, zone 0,
// sigfigs 0, `snaplen`, link type) to `*out`.
void AppendPcapGlobalHeader(uint32_t snaplen, LinkType type, std::string* out);

// Appends the 16-byte record header of a packet of `original_length` bytes captured at `time`,
// of which `captured_length` follow.
void AppendPcapRecordHeader(absl::Time time, uint32_t captured_length, uint32_t original_length,
                            std::string* out);

}  // namespace ipnfs

#endif  // IPNFS_FS_PCAP_FORMAT_H_
