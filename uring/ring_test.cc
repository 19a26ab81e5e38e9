// Ring: sleeping and busy-polling waits both return once a completion is in; large-entry rings
// take messages from other rings, tagged.
#include "uring/ring.h"

#include <liburing.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "uring/completion_tag.h"

namespace ipnfs {
namespace {

enum class TestOp : uint8_t { kTimer = 1, kMessage };

RingOptions SmallRing() {
  RingOptions options;
  options.entries = 8;
  return options;
}

// A ring; each test arms one timeout request (tagged as a timer), submits it and waits.
class RingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Ring>> created = Ring::Create(SmallRing());
    ASSERT_TRUE(created.ok()) << created.status();
    ring_ = *std::move(created);
  }

  void ArmTimeout(absl::Duration after) {
    spec_.tv_sec = 0;
    spec_.tv_nsec = absl::ToInt64Nanoseconds(after);
    io_uring_sqe* sqe = ring_->GetSqe();
    io_uring_prep_timeout(sqe, &spec_, 0, 0);
    Ring::Tag(sqe, MakeTag(0, TestOp::kTimer));
  }

  // Submits and waits (busy polling for `busy_poll` first); returns how long that took.
  absl::Duration SubmitAndWait(absl::Duration busy_poll) {
    const absl::Time start = absl::Now();
    ring_->SubmitAndWait(busy_poll);
    return absl::Now() - start;
  }

  int CountCompletions() {
    int count = 0;
    ring_->ForEachCompletion([&count](const CompletionTag&, int) { ++count; });
    return count;
  }

 private:
  std::unique_ptr<Ring> ring_;
  __kernel_timespec spec_{};
};

TEST_F(RingTest, SleepingWaitReturnsWithTheCompletion) {
  ArmTimeout(absl::Milliseconds(5));

  SubmitAndWait(absl::ZeroDuration());

  EXPECT_EQ(CountCompletions(), 1);
}

// The spin ends as soon as a completion is in, not when its time is up.
TEST_F(RingTest, BusyPollingWaitSeesACompletionWhileItSpins) {
  ArmTimeout(absl::Milliseconds(5));

  EXPECT_LT(SubmitAndWait(/*busy_poll=*/absl::Seconds(1)), absl::Milliseconds(500));
  EXPECT_EQ(CountCompletions(), 1);
}

TEST_F(RingTest, BusyPollingWaitSleepsWhenNothingCameWhileItSpun) {
  ArmTimeout(absl::Milliseconds(50));

  EXPECT_GE(SubmitAndWait(/*busy_poll=*/absl::Microseconds(100)), absl::Milliseconds(45));
  EXPECT_EQ(CountCompletions(), 1);
}

TEST(RingMessageTest, AMessageFromAnotherRingArrivesWithItsTag) {
  absl::StatusOr<std::unique_ptr<Ring>> sender = Ring::Create(SmallRing());
  absl::StatusOr<std::unique_ptr<Ring>> receiver = Ring::Create(
      RingOptions{.entries = 8, .completion_entries = 32, .sqe_size = SqeSize::kLarge});
  ASSERT_TRUE(sender.ok()) << sender.status();
  ASSERT_TRUE(receiver.ok()) << receiver.status();
  const CompletionTag tag = MakeTag(2, TestOp::kMessage, 7, 1234, 5);

  io_uring_sqe* sqe = (*sender)->GetSqe();
  io_uring_prep_msg_ring(sqe, (*receiver)->fd(), 0, Encode(tag), 0);
  Ring::Tag(sqe, MakeTag(0, TestOp::kMessage));
  (*sender)->SubmitAndWait();
  (*receiver)->SubmitAndWait();

  int sent = 0;
  (*sender)->ForEachCompletion([&sent](const CompletionTag&, int result) {
    EXPECT_EQ(result, 0);
    ++sent;
  });
  std::vector<CompletionTag> received;
  (*receiver)->ForEachCompletion(
      [&received](const CompletionTag& got, int) { received.push_back(got); });
  EXPECT_EQ(sent, 1);
  EXPECT_EQ(received, std::vector<CompletionTag>{tag});
}

}  // namespace
}  // namespace ipnfs
