#include "core/checksum.h"

namespace ipnfs {

uint32_t ChecksumAdd(uint32_t sum, absl::Span<const uint8_t> bytes) {
  uint64_t wide = sum;
  size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) wide += static_cast<uint32_t>(bytes[i] << 8 | bytes[i + 1]);
  if (i < bytes.size()) wide += static_cast<uint32_t>(bytes[i] << 8);
  while (wide >> 16) wide = (wide & 0xffff) + (wide >> 16);
  return static_cast<uint32_t>(wide);
}

uint16_t ChecksumFinish(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

bool CompletePartialChecksum(absl::Span<uint8_t> frame, size_t start, size_t offset) {
  if (start > frame.size() || offset > frame.size() - start || frame.size() - start - offset < 2) {
    return false;
  }
  uint16_t checksum = ChecksumFinish(ChecksumAdd(0, frame.subspan(start)));
  if (checksum == 0) checksum = 0xffff;
  frame[start + offset] = static_cast<uint8_t>(checksum >> 8);
  frame[start + offset + 1] = static_cast<uint8_t>(checksum);
  return true;
}

}  // namespace ipnfs
