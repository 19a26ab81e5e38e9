// EventLoop: completions reach the handler that tagged them, tasks run on the loop thread, a stop
// waits for every handler to go idle, and nothing posted after the end runs.
#include "uring/event_loop.h"

#include <linux/time_types.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "core/errno_status.h"
#include "gtest/gtest.h"

namespace ipnfs {
namespace {

enum class TestOp : uint8_t { kNop = 1, kTimeout };

// Records its completions; arms a long timeout that only OnStop() cancels, so the loop cannot end
// before the handler saw that cancellation.
class RecordingHandler final : public EventLoop::Handler {
 public:
  void OnCompletion(const CompletionTag& tag, int result) override {
    if (tag.op_as<TestOp>() == TestOp::kTimeout) {
      timeout_result = result;
      timeout_armed = false;
      return;
    }
    seen.push_back(tag);
    results.push_back(result);
  }
  void AfterBatch() override { ++batches; }
  void OnStop() override {
    stopped = true;
    io_uring_sqe* sqe = loop->ring().GetSqe();
    io_uring_prep_timeout_remove(sqe, Encode(MakeTag(id, TestOp::kTimeout)), 0);
    Ring::Tag(sqe, MakeTag(id, TestOp::kNop, 0, 0, 99));
  }
  bool Idle() const override { return !timeout_armed; }

  void ArmTimeout() {
    spec.tv_sec = 3600;
    io_uring_sqe* sqe = loop->ring().GetSqe();
    io_uring_prep_timeout(sqe, &spec, 0, 0);
    Ring::Tag(sqe, MakeTag(id, TestOp::kTimeout));
    timeout_armed = true;
  }

  EventLoop* loop = nullptr;
  uint8_t id = 0;
  std::vector<CompletionTag> seen;
  std::vector<int> results;
  int batches = 0;
  bool stopped = false;
  bool timeout_armed = false;
  int timeout_result = 0;
  __kernel_timespec spec{};
};

class EventLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EventLoop>> loop =
        EventLoop::Start(EventLoopOptions(), [this](EventLoop& loop) {
          handler_.loop = &loop;
          handler_.id = loop.Register(handler_);
          handler_.ArmTimeout();
          return absl::OkStatus();
        });
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = *std::move(loop);
  }

  RecordingHandler handler_;
  std::unique_ptr<EventLoop> loop_;
};

TEST_F(EventLoopTest, HandlersAreNumberedFromOne) { EXPECT_EQ(handler_.id, 1); }

TEST_F(EventLoopTest, ACompletionReachesTheHandlerThatTaggedIt) {
  const CompletionTag tag = MakeTag(handler_.id, TestOp::kNop, 5, 6, 7);
  ASSERT_TRUE(loop_
                  ->Call([&] {
                    io_uring_sqe* sqe = loop_->ring().GetSqe();
                    io_uring_prep_nop(sqe);
                    Ring::Tag(sqe, tag);
                    return absl::OkStatus();
                  })
                  .ok());
  // The nop is submitted with the loop's next wait and handled before the next task runs.
  std::vector<CompletionTag> seen;
  ASSERT_TRUE(loop_
                  ->Call([&] {
                    seen = handler_.seen;
                    return absl::OkStatus();
                  })
                  .ok());

  EXPECT_EQ(seen, std::vector<CompletionTag>{tag});
}

TEST_F(EventLoopTest, CallRunsOnTheLoopThreadAndReturnsTheTasksStatus) {
  std::thread::id ran_on;
  absl::Status status = loop_->Call([&] {
    ran_on = std::this_thread::get_id();
    return ErrnoError(EXDEV, "from the task");
  });

  EXPECT_EQ(StatusToErrno(status), EXDEV);
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_NE(ran_on, std::thread::id());
}

TEST_F(EventLoopTest, PostedTasksRunInOrder) {
  std::vector<int> order;
  absl::Notification done;
  for (int i = 0; i < 100; ++i) loop_->Post([&order, i] { order.push_back(i); });
  loop_->Post([&done] { done.Notify(); });

  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST_F(EventLoopTest, StopWaitsUntilEveryHandlerIsIdle) {
  loop_->Stop();

  EXPECT_TRUE(handler_.stopped);
  EXPECT_FALSE(handler_.timeout_armed);
  EXPECT_EQ(handler_.timeout_result, -ECANCELED);
}

TEST_F(EventLoopTest, NothingRunsAfterTheLoopEnded) {
  loop_->Stop();
  bool ran = false;

  EXPECT_FALSE(loop_->Post([&ran] { ran = true; }));
  EXPECT_EQ(StatusToErrno(loop_->Call([&ran] {
              ran = true;
              return absl::OkStatus();
            })),
            ESHUTDOWN);
  EXPECT_FALSE(ran);
}

TEST(EventLoopStartTest, ASetupErrorIsStartsError) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Start(
      EventLoopOptions{}, [](EventLoop&) { return ErrnoError(ENODEV, "no such thing"); });

  EXPECT_EQ(StatusToErrno(loop.status()), ENODEV);
}

TEST(EventLoopStartTest, TheThreadTakesNoSignals) {
  std::atomic<bool> blocked{false};
  absl::StatusOr<std::unique_ptr<EventLoop>> loop =
      EventLoop::Start(EventLoopOptions{}, [&blocked](EventLoop&) {
        sigset_t mask;
        pthread_sigmask(SIG_BLOCK, nullptr, &mask);
        blocked = sigismember(&mask, SIGTERM) == 1 && sigismember(&mask, SIGINT) == 1;
        return absl::OkStatus();
      });
  ASSERT_TRUE(loop.ok()) << loop.status();

  EXPECT_TRUE(blocked);
}

}  // namespace
}  // namespace ipnfs
