// OpenFile: what an open file of the mount is to the FUSE layer (a network port, a capture
// monitor), and ParkedRequests, the registry that lets interrupts reach requests parked on one
// (fs/fuse_waiters.h has the waiters that park them).
//
// Files are shared (std::shared_ptr): by the kernel's file handle and by every request parked on
// them, so a file outlives an interrupt that races with its release. Thread-safe; called from
// libfuse worker threads.
#ifndef IPNFS_FS_OPEN_FILE_H_
#define IPNFS_FS_OPEN_FILE_H_

#include <fcntl.h>
#include <fuse3/fuse_lowlevel.h>

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "core/waiters.h"

namespace ipnfs {

class ParkedRequests;

class OpenFile : public std::enable_shared_from_this<OpenFile> {
 public:
  virtual ~OpenFile() = default;

  // Each handler replies to `req` exactly once, now or later. `waiting` says whether a read or
  // write that cannot complete now parks (registered in `parked`) or fails with EAGAIN.
  virtual void Read(fuse_req_t req, size_t size, Waiting waiting, ParkedRequests& parked) = 0;
  virtual void Write(fuse_req_t req, const char* data, size_t size, Waiting waiting,
                     ParkedRequests& parked) = 0;
  virtual void Poll(fuse_req_t req, fuse_pollhandle* handle) = 0;
  virtual void Ioctl(fuse_req_t req, unsigned int cmd, const void* in, size_t in_size) = 0;

  // Fails the parked request `id` with EINTR, if it is still parked.
  virtual void Cancel(uint64_t id) = 0;
  // Fails every parked request with `error_number`.
  virtual void CancelAll(int error_number) = 0;

 protected:
  // When `req` may park (Waiting::kPark), makes it reachable by interrupts before anything can
  // answer (and free) it, and returns `parked`, the registry its waiter leaves when it replies.
  // Else returns null: a request that never parks needs no registration.
  ParkedRequests* Register(fuse_req_t req, Waiting waiting, ParkedRequests& parked);
};

// The requests that may be parked, by request, so that an interrupt can find their file.
class ParkedRequests {
 public:
  void Add(fuse_req_t req, std::shared_ptr<OpenFile> file);
  void Remove(fuse_req_t req);
  // Cancels `req` (EINTR) if it is still parked.
  void Interrupt(fuse_req_t req);
  // Fails every parked request with `error_number` (at unmount, so none is left unanswered).
  void CancelAll(int error_number);

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<fuse_req_t, std::shared_ptr<OpenFile>> requests_ ABSL_GUARDED_BY(mu_);
};

// The id a parked request is known by in the core.
inline uint64_t RequestId(fuse_req_t req) { return reinterpret_cast<uintptr_t>(req); }

// How requests on a file opened with `open_flags` wait: never with O_NONBLOCK.
inline Waiting WaitingFor(int open_flags) {
  return (open_flags & O_NONBLOCK) != 0 ? Waiting::kNever : Waiting::kPark;
}

}  // namespace ipnfs

#endif  // IPNFS_FS_OPEN_FILE_H_
