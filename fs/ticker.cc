#include "fs/ticker.h"

#include <utility>

#include "absl/time/clock.h"

namespace ipnfs {

Ticker::Ticker(absl::Duration period, std::function<void(absl::Time)> tick)
    : thread_([this, period, tick = std::move(tick)] {
        while (!stop_.WaitForNotificationWithTimeout(period)) tick(absl::Now());
      }) {}

Ticker::~Ticker() {
  stop_.Notify();
  thread_.join();
}

}  // namespace ipnfs
