// Packet: the immutable bytes of one write, shared by every port that receives it.
//
// A packet is created once per send and handed to receivers as a PacketRef; it is never copied per
// receiver. It may carry an Offload (a checksum to complete, a GSO packet to segment), which only
// receivers that take offloads see; the others get the ordinary frames it stands for.
// Thread-safe: immutable after Create, refcounted atomically.
#ifndef IPNFS_CORE_PACKET_H_
#define IPNFS_CORE_PACKET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/offload.h"

namespace ipnfs {

class Packet;
using PacketRef = std::shared_ptr<const Packet>;

class Packet {
 public:
  // A packet holding a copy of `bytes`, sent at `sent`, with `offload` left to do.
  static PacketRef Create(absl::Span<const uint8_t> bytes, absl::Time sent,
                          const Offload& offload = {});
  // A packet of the `size` bytes at `offset` in `buffer`, which it takes over instead of copying
  // (an adapter's read buffer, for large packets).
  static PacketRef Adopt(std::unique_ptr<uint8_t[]> buffer, size_t offset, size_t size,
                         absl::Time sent, const Offload& offload = {});

  Packet(const Packet&) = delete;
  Packet& operator=(const Packet&) = delete;
  ~Packet() = default;

  absl::Span<const uint8_t> bytes() const { return {data_.get() + offset_, size_}; }
  size_t size() const { return size_; }
  absl::Time sent() const { return sent_; }
  const Offload& offload() const { return offload_; }

 private:
  Packet(std::unique_ptr<uint8_t[]> data, size_t offset, size_t size, absl::Time sent,
         const Offload& offload)
      : data_(std::move(data)), offset_(offset), size_(size), sent_(sent), offload_(offload) {}

  std::unique_ptr<uint8_t[]> data_;
  size_t offset_;
  size_t size_;
  absl::Time sent_;
  Offload offload_;
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_PACKET_H_
