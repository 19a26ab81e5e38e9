#include "fs/fuse_mount.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
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

bool IsMountPoint(const std::string& real_path) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() > 4 && UnescapeMountPath(fields[4]) == real_path) return true;
  }
  return false;
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
  if (fuse_session_mount(session, options.mount_point.c_str()) != 0) {
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
  absl::StatusOr<std::unique_ptr<FuseTransport>> transport =
      FuseTransport::Install(session, options.transport);
  if (!transport.ok()) return transport.status();  // The destructor unmounts.
  mount->transport_ = *std::move(transport);
  return mount;
}

FuseMount::FuseMount(fuse_session* session, std::string mount_point)
    : session_(session), mount_point_(std::move(mount_point)) {}

FuseMount::~FuseMount() {
  fuse_remove_signal_handlers(session_);
  if (transport_ != nullptr) transport_->Stop();
  fuse_session_unmount(session_);
  fuse_session_destroy(session_);
  transport_.reset();
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
