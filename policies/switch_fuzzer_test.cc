// Runs the switch fuzzer's entry point on fixed pseudo-random inputs, so that the normal build
// (gcc, and --config=asan) keeps it compiling and its invariants checked; the fuzzer aborts the
// test on a broken invariant. Real fuzzing: scripts/fuzz.sh.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace ipnfs {
namespace {

TEST(SwitchFuzzer, KeepsEveryInvariantOnThousandsOfPseudoRandomInputs) {
  std::mt19937 random(20220623);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<size_t> length(0, 2048);
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> input(length(random));
    for (uint8_t& b : input) b = static_cast<uint8_t>(byte(random));
    EXPECT_EQ(LLVMFuzzerTestOneInput(input.data(), input.size()), 0);
  }
}

TEST(SwitchFuzzer, AcceptsAnEmptyInput) { EXPECT_EQ(LLVMFuzzerTestOneInput(nullptr, 0), 0); }

}  // namespace
}  // namespace ipnfs
