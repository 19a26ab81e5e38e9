#include "tap/frame_fixup.h"

#include <cstring>

namespace ipnfs {
namespace {

constexpr size_t kMacAddresses = 12;  // Destination and source.
constexpr size_t kVlanTag = 4;

}  // namespace

bool CompletePartialChecksum(absl::Span<uint8_t> frame, size_t start, size_t offset) {
  if (start > frame.size() || offset > frame.size() - start || frame.size() - start - offset < 2) {
    return false;
  }
  uint32_t sum = 0;
  size_t i = start;
  for (; i + 1 < frame.size(); i += 2) sum += static_cast<uint32_t>(frame[i] << 8 | frame[i + 1]);
  if (i < frame.size()) sum += static_cast<uint32_t>(frame[i] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  uint16_t checksum = static_cast<uint16_t>(~sum);
  if (checksum == 0) checksum = 0xffff;
  frame[start + offset] = static_cast<uint8_t>(checksum >> 8);
  frame[start + offset + 1] = static_cast<uint8_t>(checksum);
  return true;
}

bool InsertVlanTag(uint8_t* frame, size_t frame_size, uint16_t tpid, uint16_t tci) {
  if (frame_size < kMacAddresses) return false;
  uint8_t* tagged = frame - kVlanTag;
  std::memmove(tagged, frame, kMacAddresses);
  const uint8_t tag[kVlanTag] = {static_cast<uint8_t>(tpid >> 8), static_cast<uint8_t>(tpid),
                                 static_cast<uint8_t>(tci >> 8), static_cast<uint8_t>(tci)};
  std::memcpy(tagged + kMacAddresses, tag, kVlanTag);
  return true;
}

}  // namespace ipnfs
