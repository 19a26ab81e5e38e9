#include "core/segmentation.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/checksum.h"
#include "core/errno_status.h"

namespace ipnfs {
namespace {

constexpr size_t kEthernetHeader = 14;
constexpr size_t kVlanTag = 4;
constexpr uint16_t kIpv4 = 0x0800;
constexpr uint16_t kIpv6 = 0x86dd;
constexpr uint8_t kTcp = 6;
constexpr size_t kIpv6Header = 40;
constexpr size_t kMinIpv4Header = 20;
constexpr size_t kMinTcpHeader = 20;
// TCP flags (byte 13 of the header).
constexpr uint8_t kFin = 0x01;
constexpr uint8_t kPsh = 0x08;
constexpr uint8_t kCwr = 0x80;

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Get32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}
void Put16(uint8_t* p, uint16_t value) {
  p[0] = static_cast<uint8_t>(value >> 8);
  p[1] = static_cast<uint8_t>(value);
}
void Put32(uint8_t* p, uint32_t value) {
  Put16(p, static_cast<uint16_t>(value >> 16));
  Put16(p + 2, static_cast<uint16_t>(value));
}

// Where the headers of a TCP GSO packet are.
struct TcpHeaders {
  bool ipv4 = false;
  size_t ip = 0;       // Offset of the IP header.
  size_t tcp = 0;      // Offset of the TCP header.
  size_t payload = 0;  // Offset of the payload: the length of all headers.
};

absl::Status Invalid(const char* why) {
  return ErrnoError(EINVAL, absl::StrCat("cannot segment: ", why));
}

absl::StatusOr<TcpHeaders> ParseTcp(absl::Span<const uint8_t> frame, const Offload& offload) {
  const uint8_t type = offload.gso_type & ~Offload::kGsoEcn;
  if (type != Offload::kGsoTcp4 && type != Offload::kGsoTcp6) return Invalid("not TCP");
  if (offload.gso_size == 0) return Invalid("gso_size 0");
  TcpHeaders h;
  if (frame.size() < kEthernetHeader) return Invalid("no Ethernet header");
  size_t at = 12;
  uint16_t ethertype = Get16(&frame[at]);
  for (int tags = 0; tags < 2 && (ethertype == 0x8100 || ethertype == 0x88a8); ++tags) {
    at += kVlanTag;
    if (frame.size() < at + 2) return Invalid("VLAN tag cut short");
    ethertype = Get16(&frame[at]);
  }
  h.ip = at + 2;
  if (ethertype == kIpv4 && type == Offload::kGsoTcp4) {
    h.ipv4 = true;
    if (frame.size() < h.ip + kMinIpv4Header) return Invalid("IPv4 header cut short");
    const size_t ihl = (frame[h.ip] & 0x0f) * size_t{4};
    if ((frame[h.ip] >> 4) != 4 || ihl < kMinIpv4Header) return Invalid("bad IPv4 header");
    if (frame[h.ip + 9] != kTcp) return Invalid("IPv4 payload is not TCP");
    h.tcp = h.ip + ihl;
  } else if (ethertype == kIpv6 && type == Offload::kGsoTcp6) {
    if (frame.size() < h.ip + kIpv6Header) return Invalid("IPv6 header cut short");
    if (frame[h.ip + 6] != kTcp) return Invalid("IPv6 payload is not TCP");
    h.tcp = h.ip + kIpv6Header;
  } else {
    return Invalid("IP version and GSO type disagree");
  }
  if (frame.size() < h.tcp + kMinTcpHeader) return Invalid("TCP header cut short");
  const size_t tcp_header = (frame[h.tcp + 12] >> 4) * size_t{4};
  if (tcp_header < kMinTcpHeader) return Invalid("bad TCP header");
  h.payload = h.tcp + tcp_header;
  if (frame.size() < h.payload) return Invalid("TCP header cut short");
  return h;
}

// Fixes the IP and TCP headers of `segment` (headers `h`, then `payload` bytes): the IP length,
// the IPv4 id and header checksum, the TCP sequence number, flags and checksum.
void FixSegment(uint8_t* segment, const TcpHeaders& h, size_t payload, size_t index,
                uint32_t sequence, bool first, bool last) {
  const size_t tcp_length = h.payload - h.tcp + payload;
  uint32_t pseudo = 0;
  if (h.ipv4) {
    uint8_t* ip = segment + h.ip;
    Put16(ip + 2, static_cast<uint16_t>(h.tcp - h.ip + tcp_length));
    Put16(ip + 4, static_cast<uint16_t>(Get16(ip + 4) + index));
    Put16(ip + 10, 0);
    Put16(ip + 10, ChecksumFinish(ChecksumAdd(0, {ip, h.tcp - h.ip})));
    pseudo = ChecksumAdd(0, {ip + 12, 8});  // Source and destination.
  } else {
    uint8_t* ip = segment + h.ip;
    Put16(ip + 4, static_cast<uint16_t>(tcp_length));
    pseudo = ChecksumAdd(0, {ip + 8, 32});
  }
  pseudo += kTcp;
  pseudo += static_cast<uint32_t>(tcp_length);  // Fits 16 bits for IPv4; folded either way.
  uint8_t* tcp = segment + h.tcp;
  Put32(tcp + 4, sequence);
  if (!last) tcp[13] &= static_cast<uint8_t>(~(kFin | kPsh));
  if (!first) tcp[13] &= static_cast<uint8_t>(~kCwr);
  Put16(tcp + 16, 0);
  Put16(tcp + 16, ChecksumFinish(ChecksumAdd(pseudo, {tcp, tcp_length})));
}

}  // namespace

absl::StatusOr<size_t> LargestResolvedFrame(absl::Span<const uint8_t> frame,
                                            const Offload& offload) {
  if (offload.needs_checksum() &&
      (offload.csum_start > frame.size() ||
       frame.size() - offload.csum_start < size_t{offload.csum_offset} + 2)) {
    return Invalid("checksum outside the frame");
  }
  if (!offload.segmented()) return frame.size();
  absl::StatusOr<TcpHeaders> h = ParseTcp(frame, offload);
  if (!h.ok()) return h.status();
  return h->payload + std::min<size_t>(offload.gso_size, frame.size() - h->payload);
}

absl::Status ResolveOffload(absl::Span<const uint8_t> frame, const Offload& offload,
                            absl::FunctionRef<void(absl::Span<const uint8_t>)> emit) {
  if (absl::StatusOr<size_t> largest = LargestResolvedFrame(frame, offload); !largest.ok()) {
    return largest.status();
  }
  if (offload.plain()) {
    emit(frame);
    return absl::OkStatus();
  }
  if (!offload.segmented()) {
    std::vector<uint8_t> copy(frame.begin(), frame.end());
    CompletePartialChecksum(absl::MakeSpan(copy), offload.csum_start, offload.csum_offset);
    emit(copy);
    return absl::OkStatus();
  }
  const TcpHeaders h = *ParseTcp(frame, offload);
  const size_t total = frame.size() - h.payload;
  const uint32_t sequence = Get32(&frame[h.tcp + 4]);
  std::vector<uint8_t> segment(h.payload + std::min<size_t>(offload.gso_size, total));
  size_t index = 0;
  size_t offset = 0;
  do {
    const size_t payload = std::min<size_t>(offload.gso_size, total - offset);
    // The headers as the packet has them; FixSegment() rewrites what differs per segment.
    std::memcpy(segment.data(), frame.data(), h.payload);
    std::memcpy(segment.data() + h.payload, frame.data() + h.payload + offset, payload);
    const bool last = offset + payload >= total;
    FixSegment(segment.data(), h, payload, index, sequence + static_cast<uint32_t>(offset),
               index == 0, last);
    emit({segment.data(), h.payload + payload});
    offset += payload;
    ++index;
  } while (offset < total);
  return absl::OkStatus();
}

}  // namespace ipnfs
