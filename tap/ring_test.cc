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

// Arms a timeout request that completes after `after`, tagged as a timer.
void ArmTimeout(Ring& ring, __kernel_timespec* spec, absl::Duration after) {
  spec->tv_sec = 0;
  spec->tv_nsec = absl::ToInt64Nanoseconds(after);
  io_uring_sqe* sqe = ring.GetSqe();
  io_uring_prep_timeout(sqe, spec, 0, 0);
  Ring::Tag(sqe, CompletionTag{.op = Op::kTimer});
}

int CountCompletions(Ring& ring) {
  int count = 0;
  ring.ForEachCompletion([&count](const CompletionTag&, int) { ++count; });
  return count;
}

TEST(Ring, SleepingWaitReturnsWithTheCompletion) {
  absl::StatusOr<std::unique_ptr<Ring>> ring = Ring::Create(8);
  ASSERT_TRUE(ring.ok()) << ring.status();
  __kernel_timespec spec;
  ArmTimeout(**ring, &spec, absl::Milliseconds(5));

  (*ring)->SubmitAndWait();

  EXPECT_EQ(CountCompletions(**ring), 1);
}

// The spin ends as soon as a completion is in, not when its time is up.
TEST(Ring, BusyPollingWaitSeesACompletionWhileItSpins) {
  absl::StatusOr<std::unique_ptr<Ring>> ring = Ring::Create(8);
  ASSERT_TRUE(ring.ok()) << ring.status();
  __kernel_timespec spec;
  ArmTimeout(**ring, &spec, absl::Milliseconds(5));

  const absl::Time start = absl::Now();
  (*ring)->SubmitAndWait(/*busy_poll=*/absl::Seconds(1));

  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  EXPECT_EQ(CountCompletions(**ring), 1);
}

TEST(Ring, BusyPollingWaitSleepsWhenNothingCameWhileItSpun) {
  absl::StatusOr<std::unique_ptr<Ring>> ring = Ring::Create(8);
  ASSERT_TRUE(ring.ok()) << ring.status();
  __kernel_timespec spec;
  ArmTimeout(**ring, &spec, absl::Milliseconds(50));

  const absl::Time start = absl::Now();
  (*ring)->SubmitAndWait(/*busy_poll=*/absl::Microseconds(100));

  EXPECT_GE(absl::Now() - start, absl::Milliseconds(45));
  EXPECT_EQ(CountCompletions(**ring), 1);
}

}  // namespace
}  // namespace ipnfs
