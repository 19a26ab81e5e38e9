// Background: how `ipnfs MOUNTPOINT` (without -f) leaves the terminal. The daemon goes on in a
// child; the command the user ran returns only once the mount is usable (Ready()): exit code 0, or
// 1 when the daemon ends before that. So `ipnfs /ipn && touch /ipn/net` never races the daemon.
//
// Thread-safe: Ready() may come from any thread, once; later calls do nothing.
#ifndef IPNFS_FS_BACKGROUND_H_
#define IPNFS_FS_BACKGROUND_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "uring/scoped_fd.h"

namespace ipnfs {

class Background {
 public:
  // Forks unless `foreground`. The parent waits for the child and never returns; the child (or
  // the only process, in the foreground) gets the Background. The child leaves the session and
  // the working directory, and its standard input and output go to /dev/null; standard error
  // stays until Ready(), so that an error before then still reaches the user.
  static absl::StatusOr<std::unique_ptr<Background>> Start(bool foreground);
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  // The mount is usable: the waiting parent exits 0, and standard error goes to /dev/null.
  void Ready();

 private:
  explicit Background(ScopedFd ready) : ready_(std::move(ready)) {}

  absl::Mutex mu_;
  ScopedFd ready_ ABSL_GUARDED_BY(mu_);  // The pipe the parent waits on; none in the foreground.
};

}  // namespace ipnfs

#endif  // IPNFS_FS_BACKGROUND_H_
