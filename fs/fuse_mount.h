// FuseMount: one libfuse session mounted on a directory, served by a pool of worker threads.
//
// Create() checks the mount point and mounts; Run() serves requests until SIGINT/SIGTERM/SIGHUP
// or an external unmount (fusermount3 -u, umount); the destructor unmounts. Move-only in spirit:
// one per process (libfuse's signal handlers are process-wide). Runs on the main thread.
#ifndef IPNFS_FS_FUSE_MOUNT_H_
#define IPNFS_FS_FUSE_MOUNT_H_

#include <fuse3/fuse_lowlevel.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fs/fuse_transport.h"

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

 private:
  FuseMount(fuse_session* session, std::string mount_point);

  fuse_session* session_;
  std::unique_ptr<FuseTransport> transport_;
  std::string mount_point_;
  int max_threads_ = 16;
};

// Checks that `path` can be mounted on: an existing directory that is not a mount point already.
absl::Status CheckMountPoint(const std::string& path);

}  // namespace ipnfs

#endif  // IPNFS_FS_FUSE_MOUNT_H_
