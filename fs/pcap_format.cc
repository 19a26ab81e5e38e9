#include "fs/pcap_format.h"

#include <cstring>

namespace ipnfs {
namespace {

template <typename T>
void Append(T value, std::string* out) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // Host byte order, as the magic number tells readers.
  out->append(bytes, sizeof(T));
}

}  // namespace

uint32_t PcapLinkType(LinkType type) { return type == LinkType::kUser0 ? 147 : 1; }

void AppendPcapGlobalHeader(uint32_t snaplen, LinkType type, std::string* out) {
  Append<uint32_t>(0xa1b2c3d4, out);
  Append<uint16_t>(2, out);
  Append<uint16_t>(4, out);
  Append<int32_t>(0, out);
  Append<uint32_t>(0, out);
  Append<uint32_t>(snaplen, out);
  Append<uint32_t>(PcapLinkType(type), out);
}

void AppendPcapRecordHeader(absl::Time time, uint32_t captured_length, uint32_t original_length,
                            std::string* out) {
  const int64_t micros = absl::ToUnixMicros(time);
  Append<uint32_t>(static_cast<uint32_t>(micros / 1000000), out);
  Append<uint32_t>(static_cast<uint32_t>(micros % 1000000), out);
  Append<uint32_t>(captured_length, out);
  Append<uint32_t>(original_length, out);
}

}  // namespace ipnfs
