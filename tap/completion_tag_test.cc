#include "tap/completion_tag.h"

#include <gtest/gtest.h>

namespace ipnfs {
namespace {

TEST(CompletionTag, DecodeGivesBackWhatEncodeTook) {
  const CompletionTag tag{.op = Op::kWrite, .generation = 0x123456, .link = 0xbeef, .slot = 31};
  EXPECT_EQ(Decode(Encode(tag)), tag);
}

TEST(CompletionTag, FieldsDoNotSpillIntoEachOther) {
  const CompletionTag full{.op = Op::kCancel,
                           .generation = CompletionTag::kGenerationMask,
                           .link = 0xffff,
                           .slot = 0xffff};
  EXPECT_EQ(Decode(Encode(full)), full);
  const CompletionTag empty{.op = Op::kRead};
  EXPECT_EQ(Decode(Encode(empty)), empty);
  EXPECT_EQ(Encode(empty) & 0x00ff'ffff'ffff'ffffu, 0u);
}

TEST(CompletionTag, GenerationsWrapAroundInTheirBits) {
  const CompletionTag tag{.op = Op::kRead, .generation = CompletionTag::kGenerationMask + 2};
  EXPECT_EQ(Decode(Encode(tag)).generation, 1u);
  EXPECT_EQ(Decode(Encode(tag)).op, Op::kRead);
}

}  // namespace
}  // namespace ipnfs
