// CompletionTag: what an io_uring request is for, packed into its 64-bit user_data so that the
// event loop can dispatch each completion: the kind of request, the link (table index and
// generation, so that a stale completion is recognised) and the frame slot it uses.
//
// Plain values. Thread-safe.
#ifndef IPNFS_TAP_COMPLETION_TAG_H_
#define IPNFS_TAP_COMPLETION_TAG_H_

#include <cstdint>

namespace ipnfs {

enum class Op : uint8_t {
  kWake = 1,  // A read of the loop's eventfd: commands or port notifications are waiting.
  kTimer,     // The periodic check that attached interfaces still exist.
  kRead,      // A frame read from a link.
  kWrite,     // A frame written to a link.
  kCancel,    // Cancelling a link's requests before it closes.
};

struct CompletionTag {
  static constexpr int kOpBits = 8;
  static constexpr int kGenerationBits = 24;
  static constexpr int kLinkBits = 16;
  static constexpr int kSlotBits = 16;
  static_assert(kOpBits + kGenerationBits + kLinkBits + kSlotBits == 64,
                "a tag fills user_data exactly");
  static constexpr uint32_t kGenerationMask = (1u << kGenerationBits) - 1;
  static constexpr uint32_t kMaxLinks = 1u << kLinkBits;
  static constexpr uint32_t kMaxSlots = 1u << kSlotBits;

  Op op = Op::kWake;
  uint32_t generation = 0;  // Only the low kGenerationBits are kept.
  uint16_t link = 0;
  uint16_t slot = 0;

  bool operator==(const CompletionTag&) const = default;
};

inline uint64_t Encode(const CompletionTag& tag) {
  return uint64_t{static_cast<uint8_t>(tag.op)} << 56 |
         uint64_t{tag.generation & CompletionTag::kGenerationMask} << 32 |
         uint64_t{tag.link} << 16 | uint64_t{tag.slot};
}

inline CompletionTag Decode(uint64_t user_data) {
  return CompletionTag{
      .op = static_cast<Op>(user_data >> 56),
      .generation = static_cast<uint32_t>(user_data >> 32) & CompletionTag::kGenerationMask,
      .link = static_cast<uint16_t>(user_data >> 16),
      .slot = static_cast<uint16_t>(user_data)};
}

}  // namespace ipnfs

#endif  // IPNFS_TAP_COMPLETION_TAG_H_
