#include "core/packet.h"

#include <cstring>

namespace ipnfs {

Packet::Packet(absl::Span<const uint8_t> bytes, absl::Time sent)
    : data_(new uint8_t[bytes.size()]), size_(bytes.size()), sent_(sent) {
  if (size_ > 0) std::memcpy(data_.get(), bytes.data(), size_);
}

PacketRef Packet::Create(absl::Span<const uint8_t> bytes, absl::Time sent) {
  return PacketRef(new Packet(bytes, sent));
}

}  // namespace ipnfs
