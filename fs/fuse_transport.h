// FuseTransport: how FUSE requests reach the handlers and replies reach the kernel: read() and
// writev() on /dev/fuse (libfuse's classic loop), and FUSE-over-io_uring (FuseUring) when the
// kernel offers it and the daemon wants it.
//
// Installed on a mounted session as libfuse's custom I/O. Reads pass through; the INIT request
// is noted. When io_uring is wanted and offered, the rings are started before the INIT reply is
// sent, and the reply asks the kernel for io_uring (libfuse 3.14 knows nothing of it). From
// then on each reply goes back the way its request came: to its ring entry, or to /dev/fuse.
// Notifications, INIT, FORGET and INTERRUPT always use /dev/fuse, so the classic loop keeps
// running beside the rings.
//
// One FuseTransport per process: libfuse's custom I/O callbacks carry the session's userdata
// (the filesystem), not ours. The callbacks run on libfuse's worker threads, on the ring queue
// threads and on any thread that answers a parked request.
#ifndef IPNFS_FS_FUSE_TRANSPORT_H_
#define IPNFS_FS_FUSE_TRANSPORT_H_

#include <fuse3/fuse_lowlevel.h>
#include <sys/uio.h>

#include <atomic>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "fs/fuse_uring.h"

namespace ipnfs {

enum class FuseUringMode {
  kAuto,  // io_uring when the kernel offers it (the fuse module's enable_uring is on).
  kOn,    // io_uring, turning enable_uring on first (root); refuse to start without it.
  kOff,   // /dev/fuse only.
};

// "auto", "on" or "off".
absl::StatusOr<FuseUringMode> ParseFuseUringMode(absl::string_view text);

struct TransportOptions {
  FuseUringMode uring = FuseUringMode::kAuto;
  absl::Duration busy_poll = absl::ZeroDuration();  // See FuseUring::Options::busy_poll.
};

// Before mounting. With kOn, makes sure that the kernel offers io_uring to new FUSE connections,
// turning the fuse module's enable_uring parameter on (it needs root and stays on), or fails
// with the reason. With kAuto and kOff, does nothing.
absl::Status PrepareFuseUring(FuseUringMode mode);

class FuseTransport {
 public:
  // Installs the transport on `session`, mounted and not yet served. The session must outlive it.
  static absl::StatusOr<std::unique_ptr<FuseTransport>> Install(fuse_session* session,
                                                                const TransportOptions& options);
  ~FuseTransport();
  FuseTransport(const FuseTransport&) = delete;
  FuseTransport& operator=(const FuseTransport&) = delete;

  // Stops the rings once the classic loop has ended. Replies sent after this are dropped when
  // their request came through a ring (the kernel ends those requests when the mount goes).
  void Stop();

 private:
  FuseTransport(fuse_session* session, const TransportOptions& options);

  static ssize_t Read(int fd, void* buffer, size_t size, void* userdata);
  static ssize_t Writev(int fd, struct iovec* iov, int count, void* userdata);

  // writev() on /dev/fuse, gathering the pieces first when there are more than IOV_MAX.
  static ssize_t WriteToDevice(int fd, const struct iovec* iov, int count);

  // The reply to INIT: starts the rings and asks for io_uring when that is wanted and offered.
  ssize_t WriteInitReply(int fd, struct iovec* iov, int count);

  fuse_session* const session_;
  const TransportOptions options_;
  std::atomic<uint64_t> init_unique_{0};
  std::atomic<bool> uring_offered_{false};
  std::unique_ptr<FuseUring> uring_;         // Set once, while INIT is answered.
  std::atomic<FuseUring*> active_{nullptr};  // uring_, once the kernel was asked to use it.
};

}  // namespace ipnfs

#endif  // IPNFS_FS_FUSE_TRANSPORT_H_
