#include "core/packet.h"

#include <cstring>

namespace ipnfs {

Packet::Packet(absl::Span<const uint8_t> bytes, absl::Time sent, const Offload& offload)
    : data_(new uint8_t[bytes.size()]), size_(bytes.size()), sent_(sent), offload_(offload) {
  if (size_ > 0) std::memcpy(data_.get(), bytes.data(), size_);
}

PacketRef Packet::Create(absl::Span<const uint8_t> bytes, absl::Time sent,
                         const Offload& offload) {
  return PacketRef(new Packet(bytes, sent, offload));
}

}  // namespace ipnfs
