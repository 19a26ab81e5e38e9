#include "uring/completion_tag.h"

#include <gtest/gtest.h>

namespace ipnfs {
namespace {

enum class TestOp : uint8_t { kRead = 1, kWrite, kCancel = 15 };

TEST(CompletionTag, DecodeGivesBackWhatEncodeTook) {
  const CompletionTag tag = MakeTag(3, TestOp::kWrite, 0x123456, 0xbeef, 31);
  EXPECT_EQ(Decode(Encode(tag)), tag);
  EXPECT_EQ(Decode(Encode(tag)).op_as<TestOp>(), TestOp::kWrite);
}

TEST(CompletionTag, FieldsDoNotSpillIntoEachOther) {
  const CompletionTag full = MakeTag(CompletionTag::kMaxHandlers - 1, TestOp::kCancel,
                                     CompletionTag::kGenerationMask, 0xffff, 0xffff);
  EXPECT_EQ(Decode(Encode(full)), full);
  const CompletionTag handler_only = MakeTag(CompletionTag::kMaxHandlers - 1, TestOp{0});
  EXPECT_EQ(Encode(handler_only), uint64_t{0xf} << 60);
  const CompletionTag op_only = MakeTag(0, TestOp::kCancel);
  EXPECT_EQ(Encode(op_only), uint64_t{0xf} << 56);
}

TEST(CompletionTag, GenerationsWrapAroundInTheirBits) {
  const CompletionTag tag = MakeTag(1, TestOp::kRead, CompletionTag::kGenerationMask + 2);
  EXPECT_EQ(Decode(Encode(tag)).generation, 1u);
  EXPECT_EQ(Decode(Encode(tag)).op_as<TestOp>(), TestOp::kRead);
  EXPECT_EQ(Decode(Encode(tag)).handler, 1);
}

}  // namespace
}  // namespace ipnfs
