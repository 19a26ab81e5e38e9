// Ticker: calls a function with the current time at a fixed period, on its own thread, until
// destroyed. Drives the core's time-based state (flow-control stalls, policy ageing).
#ifndef IPNFS_FS_TICKER_H_
#define IPNFS_FS_TICKER_H_

#include <functional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace ipnfs {

class Ticker {
 public:
  Ticker(absl::Duration period, std::function<void(absl::Time)> tick);
  // Stops and joins the thread; no tick runs after it returns.
  ~Ticker();
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

 private:
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace ipnfs

#endif  // IPNFS_FS_TICKER_H_
