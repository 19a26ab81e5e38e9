// FuseWaiter and FusePollWaiter: how the FUSE layer hands a request to the network core, as one of
// the core's waiters (core/waiters.h).
//
// A read or write waiter answers its request exactly once, from whichever thread completes it (the
// core does so with no lock held). What every such waiter shares is here: the request, whether it
// was interrupted, the error reply, and leaving the registry of parked requests right before the
// reply; a file's own waiter (PortFile, PcapFile) writes only its successful reply. Thread-safe as
// the core uses them.
#ifndef IPNFS_FS_FUSE_WAITERS_H_
#define IPNFS_FS_FUSE_WAITERS_H_

#include <fuse3/fuse_lowlevel.h>

#include "core/waiters.h"
#include "fs/open_file.h"

namespace ipnfs {

// The common part of a read (Waiter = ReadWaiter) or write (Waiter = SendWaiter) request waiter.
template <typename Waiter>
class FuseWaiter : public Waiter {
 public:
  bool Abandoned() const final { return fuse_req_interrupted(req_); }
  void Fail(int error_number) final { fuse_reply_err(Unpark(), error_number); }

 protected:
  // A waiter for `req`, which is registered in `parked` (null: it is never parked, so it was not
  // registered); `args` follow the request's id to Waiter's constructor.
  template <typename... Args>
  FuseWaiter(fuse_req_t req, ParkedRequests* parked, Args... args)
      : Waiter(RequestId(req), args...), req_(req), parked_(parked) {}

  // The request, taken out of the registry: reply to it right away.
  fuse_req_t Unpark() {
    if (parked_ != nullptr) parked_->Remove(req_);
    return req_;
  }

 private:
  const fuse_req_t req_;
  ParkedRequests* const parked_;
};

// A poll handle given to the core: notified once, then destroyed.
class FusePollWaiter final : public PollWaiter {
 public:
  explicit FusePollWaiter(fuse_pollhandle* handle) : handle_(handle) {}
  ~FusePollWaiter() override { fuse_pollhandle_destroy(handle_); }
  FusePollWaiter(const FusePollWaiter&) = delete;
  FusePollWaiter& operator=(const FusePollWaiter&) = delete;

  void Notify() override { fuse_lowlevel_notify_poll(handle_); }

 private:
  fuse_pollhandle* handle_;
};

}  // namespace ipnfs

#endif  // IPNFS_FS_FUSE_WAITERS_H_
