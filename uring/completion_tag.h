// CompletionTag: what an io_uring request is for, packed into its 64-bit user_data so that an
// event loop can dispatch each completion: the handler that owns the request (EventLoop routes on
// it), the handler's own kind of request, and the object (a table index with a generation, so that
// a stale completion is recognised) and slot it uses.
//
// Plain values. Thread-safe.
#ifndef IPNFS_URING_COMPLETION_TAG_H_
#define IPNFS_URING_COMPLETION_TAG_H_

#include <cstdint>
#include <type_traits>

namespace ipnfs {

struct CompletionTag {
  static constexpr int kHandlerBits = 4;
  static constexpr int kOpBits = 4;
  static constexpr int kGenerationBits = 24;
  static constexpr int kObjectBits = 16;
  static constexpr int kSlotBits = 16;
  static_assert(kHandlerBits + kOpBits + kGenerationBits + kObjectBits + kSlotBits == 64,
                "a tag fills user_data exactly");
  static constexpr uint32_t kMaxHandlers = 1u << kHandlerBits;
  static constexpr uint32_t kMaxOps = 1u << kOpBits;
  static constexpr uint32_t kGenerationMask = (1u << kGenerationBits) - 1;
  static constexpr uint32_t kMaxObjects = 1u << kObjectBits;
  static constexpr uint32_t kMaxSlots = 1u << kSlotBits;

  uint8_t handler = 0;      // Only the low kHandlerBits are kept.
  uint8_t op = 0;           // The handler's own request kind; only the low kOpBits are kept.
  uint32_t generation = 0;  // Only the low kGenerationBits are kept.
  uint16_t object = 0;
  uint16_t slot = 0;

  // The handler's request kind as its own enum.
  template <typename Op>
  Op op_as() const {
    static_assert(std::is_enum_v<Op>);
    return static_cast<Op>(op);
  }

  bool operator==(const CompletionTag&) const = default;
};

// A tag for handler `handler`'s request kind `op` (an enum with values below kMaxOps).
template <typename Op>
constexpr CompletionTag MakeTag(uint8_t handler, Op op, uint32_t generation = 0,
                                uint16_t object = 0, uint16_t slot = 0) {
  static_assert(std::is_enum_v<Op>);
  return CompletionTag{.handler = handler,
                       .op = static_cast<uint8_t>(op),
                       .generation = generation,
                       .object = object,
                       .slot = slot};
}

inline uint64_t Encode(const CompletionTag& tag) {
  constexpr uint32_t kHandlerMask = CompletionTag::kMaxHandlers - 1;
  constexpr uint32_t kOpMask = CompletionTag::kMaxOps - 1;
  return uint64_t{tag.handler & kHandlerMask} << 60 | uint64_t{tag.op & kOpMask} << 56 |
         uint64_t{tag.generation & CompletionTag::kGenerationMask} << 32 |
         uint64_t{tag.object} << 16 | uint64_t{tag.slot};
}

inline CompletionTag Decode(uint64_t user_data) {
  return CompletionTag{
      .handler = static_cast<uint8_t>(user_data >> 60),
      .op = static_cast<uint8_t>((user_data >> 56) & (CompletionTag::kMaxOps - 1)),
      .generation = static_cast<uint32_t>(user_data >> 32) & CompletionTag::kGenerationMask,
      .object = static_cast<uint16_t>(user_data >> 16),
      .slot = static_cast<uint16_t>(user_data)};
}

}  // namespace ipnfs

#endif  // IPNFS_URING_COMPLETION_TAG_H_
