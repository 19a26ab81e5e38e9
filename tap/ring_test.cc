// Ring::SubmitAndWait: sleeping and busy-polling waits both return once a completion is in.
#include "tap/ring.h"

#include <liburing.h>

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tap/completion_tag.h"

namespace ipnfs {
namespace {

// A ring; each test arms one timeout request (tagged as a timer), submits it and waits.
class RingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Ring>> created = Ring::Create(8);
    ASSERT_TRUE(created.ok()) << created.status();
    ring_ = *std::move(created);
  }

  void ArmTimeout(absl::Duration after) {
    spec_.tv_sec = 0;
    spec_.tv_nsec = absl::ToInt64Nanoseconds(after);
    io_uring_sqe* sqe = ring_->GetSqe();
    io_uring_prep_timeout(sqe, &spec_, 0, 0);
    Ring::Tag(sqe, CompletionTag{.op = Op::kTimer});
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

}  // namespace
}  // namespace ipnfs
