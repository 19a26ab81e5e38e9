// FuseMount: one libfuse session mounted on a directory, served by a pool of worker threads.
//
// Create() checks the mount point and mounts; Run() serves requests until SIGINT/SIGTERM/SIGHUP
// or an external unmount (fusermount3 -u, umount); the destructor unmounts. Move-only in spirit:
// one per process (libfuse's signal handlers are process-wide). Runs on the main thread.
//
// Detached mounting. With CAP_SYS_ADMIN, Create() mounts with fsmount(2) and the mount is reachable
// by nobody until Attach() puts it on the mount point: the daemon can serve requests of its own
// through Clone() first (the socket faces are bound before any user can create a network). Without
// it, libfuse mounts with fusermount3 and Attach() has nothing to do.
#ifndef IPNFS_FS_FUSE_MOUNT_H_
#define IPNFS_FS_FUSE_MOUNT_H_

#include <fuse3/fuse_lowlevel.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "fs/fuse_transport.h"
#include "uring/scoped_fd.h"

namespace ipnfs {

struct MountOptions {
  std::string mount_point;
  bool allow_other = false;  // Let users other than the mounter in (permissions still apply).
  int max_threads = 16;      // libfuse worker threads at most.
  TransportOptions transport;
};

class FuseMount {
 public:
  // Mounts `ops` (with `userdata`) on options.mount_point. Fails with a one-line reason when the
  // mount point is missing, not a directory or already a mount point, or /dev/fuse is missing.
  static absl::StatusOr<std::unique_ptr<FuseMount>> Create(const MountOptions& options,
                                                           const fuse_lowlevel_ops& ops,
                                                           void* userdata);
  ~FuseMount();
  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;

  // Serves requests until the session ends; OK after a signal or an unmount. Stops the io_uring
  // queues, if any, before returning; the mount stays until the destructor.
  absl::Status Run();

  // Detached mounts only: a new mount of the same file system, reachable only through the
  // returned descriptor (open_tree(2) with OPEN_TREE_CLONE); FAILED_PRECONDITION once attached or
  // when mounted by fusermount3. Unlike the user's mount, it is not on the mount point: what is
  // open through it does not keep the user from unmounting. Any thread.
  absl::StatusOr<ScopedFd> Clone();
  // Puts a detached mount on the mount point (move_mount(2)); OK when libfuse mounted it already.
  // Any thread; the first call does it.
  absl::Status Attach();

 private:
  FuseMount(fuse_session* session, std::string mount_point);
  // Unmounts what Attach() attached, unless the mount on the mount point is another one by now.
  void DetachAttached() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  fuse_session* session_;
  mutable absl::Mutex mu_;
  ScopedFd detached_ ABSL_GUARDED_BY(mu_);         // The fsmount(2) mount until it is attached.
  uint64_t attached_id_ ABSL_GUARDED_BY(mu_) = 0;  // Its mount id once attached (statx).
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<FuseTransport> transport_;
  std::string mount_point_;
  std::string real_mount_point_;  // Absolute, as /proc/self/mountinfo shows it.
  int max_threads_ = 16;
};

// Checks that `path` can be mounted on: an existing directory that is not a mount point already.
absl::Status CheckMountPoint(const std::string& path);

}  // namespace ipnfs

#endif  // IPNFS_FS_FUSE_MOUNT_H_
