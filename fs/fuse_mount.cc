#include "fs/fuse_mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/errno_status.h"
#include "core/log.h"

namespace ipnfs {
namespace {

// Undoes the octal escapes (\040 for a space...) of /proc/self/mountinfo.
std::string UnescapeMountPath(const std::string& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\' && i + 3 < path.size()) {
      const std::string digits = path.substr(i + 1, 3);
      if (digits.size() == 3 && digits.find_first_not_of("01234567") == std::string::npos) {
        out.push_back(static_cast<char>(std::strtol(digits.c_str(), nullptr, 8)));
        i += 3;
        continue;
      }
    }
    out.push_back(path[i]);
  }
  return out;
}

// The id of the mount on `real_path` (the last one mounted there), 0 for none.
uint64_t MountIdAt(const std::string& real_path) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  uint64_t id = 0;
  while (std::getline(mountinfo, line)) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() > 4 && UnescapeMountPath(fields[4]) == real_path) {
      id = std::strtoull(fields[0].c_str(), nullptr, 10);
    }
  }
  return id;
}

bool IsMountPoint(const std::string& real_path) { return MountIdAt(real_path) != 0; }

// The id of the mount `fd` is open on, from /proc/self/fdinfo (no request to the file system).
uint64_t MountIdOf(int fd) {
  std::ifstream fdinfo(absl::StrCat("/proc/self/fdinfo/", fd));
  std::string line;
  while (std::getline(fdinfo, line)) {
    if (absl::StartsWith(line, "mnt_id:")) return std::strtoull(line.c_str() + 7, nullptr, 10);
  }
  return 0;
}

// A FUSE mount of /dev/fuse descriptor `fuse_fd` that is on no mount point yet (fsmount(2)),
// with the options libfuse's fusermount3 would give it.
absl::StatusOr<ScopedFd> MountDetached(int fuse_fd, bool allow_other) {
  ScopedFd context(fsopen("fuse", FSOPEN_CLOEXEC));
  if (!context.valid()) return ErrnoError(errno, "fsopen(fuse)");
  const std::pair<const char*, std::string> settings[] = {
      {"source", "ipnfs"},
      {"subtype", "ipnfs"},
      {"fd", absl::StrCat(fuse_fd)},
      {"rootmode", absl::StrFormat("%o", S_IFDIR)},
      {"user_id", absl::StrCat(getuid())},
      {"group_id", absl::StrCat(getgid())}};
  for (const auto& [key, value] : settings) {
    if (fsconfig(context.get(), FSCONFIG_SET_STRING, key, value.c_str(), 0) != 0) {
      return ErrnoError(errno, absl::StrCat("fsconfig ", key, "=", value));
    }
  }
  if (allow_other && fsconfig(context.get(), FSCONFIG_SET_FLAG, "allow_other", nullptr, 0) != 0) {
    return ErrnoError(errno, "fsconfig allow_other");
  }
  if (fsconfig(context.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    return ErrnoError(errno, "fsconfig create");
  }
  ScopedFd mount(fsmount(context.get(), FSMOUNT_CLOEXEC,
                         MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  if (!mount.valid()) return ErrnoError(errno, "fsmount");
  return mount;
}

// Mounts `session` detached (see the header), or returns an error and leaves it unmounted.
absl::StatusOr<ScopedFd> MountSessionDetached(fuse_session* session, bool allow_other) {
  ScopedFd fuse(open("/dev/fuse", O_RDWR | O_CLOEXEC));
  if (!fuse.valid()) return ErrnoError(errno, "open /dev/fuse");
  absl::StatusOr<ScopedFd> mount = MountDetached(fuse.get(), allow_other);
  if (!mount.ok()) return mount.status();
  // libfuse takes a descriptor it did not open as the mount point /dev/fd/N, and closes it.
  const std::string device = absl::StrCat("/dev/fd/", fuse.get());
  if (fuse_session_mount(session, device.c_str()) != 0) {
    return ErrnoError(EIO, "libfuse refused the /dev/fuse descriptor");
  }
  static_cast<void>(fuse.Release());
  return mount;
}

}  // namespace

absl::Status CheckMountPoint(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return ErrnoError(errno, absl::StrCat("mount point ", path, " does not exist"));
  }
  if (!S_ISDIR(st.st_mode)) {
    return ErrnoError(ENOTDIR, absl::StrCat("mount point ", path, " is not a directory"));
  }
  char real[PATH_MAX];
  if (::realpath(path.c_str(), real) == nullptr) {
    return ErrnoError(errno, absl::StrCat("cannot resolve ", path));
  }
  if (IsMountPoint(real)) {
    return ErrnoError(EBUSY, absl::StrCat(real, " is already mounted"));
  }
  if (::access("/dev/fuse", F_OK) != 0) {
    return ErrnoError(ENODEV, "/dev/fuse is missing (is the fuse module loaded?)");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<FuseMount>> FuseMount::Create(const MountOptions& options,
                                                             const fuse_lowlevel_ops& ops,
                                                             void* userdata) {
  if (absl::Status usable = CheckMountPoint(options.mount_point); !usable.ok()) return usable;
  if (absl::Status ready = PrepareFuseUring(options.transport.uring); !ready.ok()) return ready;
  std::string mount_options = "fsname=ipnfs,subtype=ipnfs,nosuid,nodev,noexec";
  if (options.allow_other) mount_options += ",allow_other";
  std::vector<std::string> argv_storage = {"ipnfs", "-o", mount_options};
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  fuse_session* session = fuse_session_new(&args, &ops, sizeof(ops), userdata);
  fuse_opt_free_args(&args);  // libfuse may have copied and grown them.
  if (session == nullptr) return ErrnoError(EINVAL, "cannot create the FUSE session");
  ScopedFd detached;
  if (geteuid() == 0) {
    absl::StatusOr<ScopedFd> mounted = MountSessionDetached(session, options.allow_other);
    if (mounted.ok()) {
      detached = *std::move(mounted);
    } else {
      IPN_LOG(INFO) << "mounting with fusermount3 (no detached mount: "
                    << mounted.status().message() << ")";
    }
  }
  if (!detached.valid() && fuse_session_mount(session, options.mount_point.c_str()) != 0) {
    fuse_session_destroy(session);
    return ErrnoError(EIO, absl::StrCat("cannot mount on ", options.mount_point));
  }
  if (fuse_set_signal_handlers(session) != 0) {
    fuse_session_unmount(session);
    fuse_session_destroy(session);
    return ErrnoError(EIO, "cannot install signal handlers");
  }
  auto mount = std::unique_ptr<FuseMount>(new FuseMount(session, options.mount_point));
  mount->max_threads_ = options.max_threads;
  {
    absl::MutexLock lock(&mount->mu_);
    mount->detached_ = std::move(detached);
  }
  absl::StatusOr<std::unique_ptr<FuseTransport>> transport =
      FuseTransport::Install(session, options.transport);
  if (!transport.ok()) return transport.status();  // The destructor unmounts.
  mount->transport_ = *std::move(transport);
  return mount;
}

FuseMount::FuseMount(fuse_session* session, std::string mount_point)
    : session_(session), mount_point_(std::move(mount_point)) {
  char real[PATH_MAX];
  real_mount_point_ = ::realpath(mount_point_.c_str(), real) ? real : mount_point_;
}

FuseMount::~FuseMount() {
  fuse_remove_signal_handlers(session_);
  if (transport_ != nullptr) transport_->Stop();
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    detached_.Reset(-1);
    if (attached_id_ != 0) DetachAttached();
  }
  fuse_session_unmount(session_);  // Only what libfuse mounted itself.
  fuse_session_destroy(session_);
  transport_.reset();
}

absl::StatusOr<ScopedFd> FuseMount::Clone() {
  absl::MutexLock lock(&mu_);
  if (!detached_.valid()) return absl::FailedPreconditionError("the mount is not detached");
  ScopedFd clone(
      open_tree(detached_.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
  if (!clone.valid()) return ErrnoError(errno, "open_tree(OPEN_TREE_CLONE) of the mount");
  return clone;
}

absl::Status FuseMount::Attach() {
  absl::MutexLock lock(&mu_);
  if (closing_) return absl::CancelledError("the mount is closing");
  if (!detached_.valid()) return absl::OkStatus();
  const uint64_t id = MountIdOf(detached_.get());
  if (move_mount(detached_.get(), "", AT_FDCWD, real_mount_point_.c_str(),
                 MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    return ErrnoError(errno, absl::StrCat("cannot mount on ", real_mount_point_));
  }
  // Closed at once: a descriptor open on the user's mount would make unmounting it fail (EBUSY).
  detached_.Reset(-1);
  attached_id_ = id;
  return absl::OkStatus();
}

void FuseMount::DetachAttached() {
  if (MountIdAt(real_mount_point_) != attached_id_) return;  // Unmounted already.
  if (umount2(real_mount_point_.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0) {
    IPN_LOG(WARNING) << "cannot unmount " << real_mount_point_ << ": " << strerror(errno);
  }
}

absl::Status FuseMount::Run() {
  fuse_loop_config* config = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(config, max_threads_);
  const int result = fuse_session_loop_mt(session_, config);
  fuse_loop_cfg_destroy(config);
  transport_->Stop();
  // Shutting down already: further signals must not kill the process before it unmounts.
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) std::signal(signal, SIG_IGN);
  // libfuse reports the signal that ended the loop as a positive number: a clean stop.
  if (result < 0) return ErrnoError(-result, "FUSE session failed");
  return absl::OkStatus();
}

}  // namespace ipnfs
