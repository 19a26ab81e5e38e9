#include "core/packet.h"

#include <cstring>

namespace ipnfs {

PacketRef Packet::Create(absl::Span<const uint8_t> bytes, absl::Time sent, const Offload& offload) {
  std::unique_ptr<uint8_t[]> data(new uint8_t[bytes.size()]);
  if (!bytes.empty()) std::memcpy(data.get(), bytes.data(), bytes.size());
  return PacketRef(new Packet(std::move(data), 0, bytes.size(), sent, offload));
}

PacketRef Packet::Adopt(std::unique_ptr<uint8_t[]> buffer, size_t offset, size_t size,
                        absl::Time sent, const Offload& offload) {
  return PacketRef(new Packet(std::move(buffer), offset, size, sent, offload));
}

}  // namespace ipnfs
