#include "tap/frame_fixup.h"

#include <cstring>

namespace ipnfs {
namespace {

constexpr size_t kMacAddresses = 12;  // Destination and source.
constexpr size_t kVlanTag = 4;

}  // namespace

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
