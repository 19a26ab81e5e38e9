// WaitUntil: polls a condition until it holds or a deadline passes, so that a test waits for
// what the daemon or the kernel does asynchronously without sleeping a fixed time, and a hang
// fails the test instead of hanging it. Thread-safe (no state).
#ifndef IPNFS_TESTS_WAIT_UNTIL_H_
#define IPNFS_TESTS_WAIT_UNTIL_H_

#include <functional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ipnfs::tests {

// Checks `condition` every 5 ms until it holds (true) or `timeout` has passed (false). It is
// checked at least once, also with a zero timeout.
inline bool WaitUntil(const std::function<bool()>& condition,
                      absl::Duration timeout = absl::Seconds(5)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_WAIT_UNTIL_H_
