#include "sock/socket_faces.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "core/access.h"
#include "core/errno_status.h"
#include "core/introspection.h"
#include "core/log.h"

namespace ipnfs {
namespace {

// A face whose path changes under the binder (a rename) is tried again this many times.
constexpr int kBindAttempts = 3;
constexpr int kBacklog = 128;

const char* FaceName(FaceKind kind) {
  return kind == FaceKind::kSeqpacket ? "seqpacket" : "stream";
}

std::string CommandOf(pid_t pid) {
  std::ifstream comm(absl::StrCat("/proc/", pid, "/comm"));
  std::string name;
  std::getline(comm, name);
  return std::string(absl::StripAsciiWhitespace(name));
}

// The mount point as /proc/PID/mountinfo writes it: space, tab, newline and backslash in octal.
std::string MountinfoEscaped(const std::string& path) {
  std::string escaped;
  for (char c : path) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
      absl::StrAppend(&escaped, absl::StrFormat("\\%03o", static_cast<unsigned char>(c)));
    } else {
      escaped.push_back(c);
    }
  }
  return escaped;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SocketFaces>> SocketFaces::Create(Namespace& tree,
                                                                 SocketFacesOptions options) {
  std::unique_ptr<SocketFaces> faces(new SocketFaces(tree, std::move(options)));
  faces->wake_ = ScopedFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!faces->wake_.valid()) return ErrnoError(errno, "eventfd for the socket faces");
  EventLoopOptions loop_options;
  loop_options.name = "ipnfs-sockets";
  loop_options.ring.entries = faces->options_.ring_entries;
  loop_options.busy_poll = faces->options_.busy_poll;
  absl::StatusOr<std::unique_ptr<EventLoop>> loop =
      EventLoop::Start(std::move(loop_options), [](EventLoop&) { return absl::OkStatus(); });
  if (!loop.ok()) return loop.status();
  faces->loop_ = *std::move(loop);
  SocketFaces* self = faces.get();
  absl::StatusOr<std::unique_ptr<SocketLoop>> connections = SocketLoop::Create(
      *faces->loop_, faces->options_.connections,
      [self](ino_t ino, FaceKind kind, const Peer& peer) { return self->Admit(ino, kind, peer); },
      [self](ino_t ino, const std::string& leave_event) { self->Left(ino, leave_event); });
  if (!connections.ok()) return connections.status();
  faces->connections_ = *std::move(connections);
  return faces;
}

SocketFaces::SocketFaces(Namespace& tree, SocketFacesOptions options)
    : tree_(tree), options_(std::move(options)) {}

SocketFaces::~SocketFaces() { Stop(); }

void SocketFaces::Start(FaceMount mount) {
  absl::MutexLock lock(&mu_);
  if (started_ || stopping_) return;
  started_ = true;
  mount_ = std::move(mount);
  binder_ = std::thread([this] { RunBinder(); });
}

void SocketFaces::WakeBinder() {
  const uint64_t one = 1;
  if (wake_.valid() && write(wake_.get(), &one, sizeof(one)) < 0) {
    IPN_LOG(WARNING) << "cannot wake the socket binder: " << strerror(errno);
  }
}

void SocketFaces::Close() {
  std::deque<Job> left;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    closed_ = true;
    left.swap(jobs_);
  }
  WakeBinder();
  for (Job& job : left) {
    if (job.kind == Job::Kind::kCallback) job.callback();
  }
}

void SocketFaces::Stop() {
  Close();
  if (binder_.joinable()) binder_.join();
  if (loop_ != nullptr) loop_->Stop();  // Closes every listener and connection.
  connections_.reset();
  loop_.reset();
}

void SocketFaces::Expose(ino_t ino, const std::shared_ptr<Network>& network) {
  absl::MutexLock lock(&mu_);
  if (closed_) return;
  networks_[ino] = network;
  jobs_.push_back(Job{.kind = Job::Kind::kExpose, .ino = ino, .callback = nullptr});
  WakeBinder();
}

void SocketFaces::Withdraw(ino_t ino) {
  absl::MutexLock lock(&mu_);
  if (closed_) return;
  jobs_.push_back(Job{.kind = Job::Kind::kWithdraw, .ino = ino, .callback = nullptr});
  WakeBinder();
}

void SocketFaces::WhenExposed(absl::AnyInvocable<void()> done) {
  {
    absl::MutexLock lock(&mu_);
    if (!closed_ && ready_) {
      jobs_.push_back(Job{.kind = Job::Kind::kCallback, .ino = 0, .callback = std::move(done)});
      WakeBinder();
      return;
    }
  }
  done();
}

bool SocketFaces::IsBinding(pid_t tid, ino_t ino, FaceKind kind) const {
  absl::MutexLock lock(&mu_);
  return binding_.tid != 0 && binding_.tid == tid && binding_.ino == ino && binding_.kind == kind;
}

void SocketFaces::EnterPrivateMounts() {
  // A mount namespace of this thread's own: its copy of the daemon's mount is what the bound
  // sockets pin. Private, so that unmounting the user's copy does not propagate here (nor fail
  // because of the sockets).
  if (unshare(CLONE_NEWNS) != 0) {
    IPN_LOG(INFO) << "socket faces pin the mount (no private mount namespace: " << strerror(errno)
                  << "); unmount with fusermount3 -u -z";
    return;
  }
  if (mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    IPN_LOG(WARNING) << "cannot make the binder's mounts private: " << strerror(errno);
  }
  watch_unmount_ = true;
}

bool SocketFaces::OpenRootsInClone() {
  if (!mount_.clone) return false;
  absl::StatusOr<ScopedFd> clone = mount_.clone();
  if (!clone.ok()) {
    IPN_LOG(INFO) << "socket faces bound through " << mount_.mount_point << " ("
                  << clone.status().message() << ")";
    return false;
  }
  for (FaceKind kind : kFaceKinds) {
    const std::string root = absl::StrCat(".", FaceName(kind));
    face_roots_[static_cast<int>(kind)] =
        ScopedFd(openat(clone->get(), root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!face_roots_[static_cast<int>(kind)].valid()) {
      IPN_LOG(ERROR) << "cannot open /" << root << ": " << strerror(errno) << "; no socket faces";
    }
  }
  watch_unmount_ = true;
  return true;
}

void SocketFaces::OpenRootsInMountPoint() {
  EnterPrivateMounts();
  for (FaceKind kind : kFaceKinds) {
    const std::string root = absl::StrCat(mount_.mount_point, "/.", FaceName(kind));
    face_roots_[static_cast<int>(kind)] =
        ScopedFd(open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!face_roots_[static_cast<int>(kind)].valid()) {
      IPN_LOG(ERROR) << "cannot open " << root << ": " << strerror(errno) << "; no socket faces";
    }
  }
}

void SocketFaces::RunBinder() {
  pthread_setname_np(pthread_self(), "ipnfs-binder");
  // A working directory of this thread's own: Bind() changes it.
  if (unshare(CLONE_FS) != 0) {
    IPN_LOG(ERROR) << "socket binder: unshare(CLONE_FS): " << strerror(errno);
  }
  const bool cloned = OpenRootsInClone();
  {
    absl::MutexLock lock(&mu_);
    ready_ = cloned;
  }
  // Nobody reaches the mount yet: bind what is there, then let users in.
  const bool attach = !cloned || RunJobs();
  if (attach && mount_.attach) mount_.attach();
  if (attach && !cloned) {
    OpenRootsInMountPoint();
    absl::MutexLock lock(&mu_);
    ready_ = true;
  }
  // The user's mount table (the main thread's): it changes when the mount goes.
  ScopedFd mountinfo(
      open(absl::StrCat("/proc/", getpid(), "/mountinfo").c_str(), O_RDONLY | O_CLOEXEC));
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
    }
    pollfd fds[2] = {
        {.fd = wake_.get(), .events = POLLIN, .revents = 0},
        {.fd = watch_unmount_ ? mountinfo.get() : -1, .events = POLLPRI, .revents = 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) {
      IPN_LOG(ERROR) << "socket binder: poll failed: " << strerror(errno);
      break;
    }
    uint64_t count;
    if (read(wake_.get(), &count, sizeof(count)) < 0 && errno != EAGAIN) break;
    if ((fds[1].revents & (POLLPRI | POLLERR)) && !StillMounted()) {
      IPN_LOG(INFO) << mount_.mount_point << " was unmounted: closing the socket faces";
      break;
    }
    if (!RunJobs()) break;
  }
  // Nothing of this thread may pin its copy of the mount any more: once the faces are closed too,
  // the mount can go.
  for (ScopedFd& root : face_roots_) root.Reset(-1);
  CloseAll();
}

bool SocketFaces::RunJobs() {
  for (;;) {
    Job job;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return false;
      if (jobs_.empty()) return true;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    switch (job.kind) {
      case Job::Kind::kExpose:
        for (FaceKind kind : kFaceKinds) {
          if (!Bind(job.ino, kind)) break;
        }
        break;
      case Job::Kind::kWithdraw: {
        {
          absl::MutexLock lock(&mu_);
          networks_.erase(job.ino);
        }
        connections_->RemoveNetwork(job.ino);
        break;
      }
      case Job::Kind::kCallback:
        job.callback();
        break;
    }
  }
}

void SocketFaces::CloseAll() {
  std::deque<Job> left;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    left.swap(jobs_);
    for (const auto& [ino, network] : networks_) connections_->RemoveNetwork(ino);
    networks_.clear();
  }
  for (Job& job : left) {
    if (job.kind == Job::Kind::kCallback) job.callback();
  }
}

bool SocketFaces::Bind(ino_t ino, FaceKind kind) {
  const int root = face_roots_[static_cast<int>(kind)].get();
  if (root < 0) return false;
  for (int attempt = 0; attempt < kBindAttempts; ++attempt) {
    absl::StatusOr<std::string> path = tree_.FacePath(ino);
    if (!path.ok()) return false;  // Removed meanwhile.
    const size_t slash = path->rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path->substr(0, slash);
    const std::string name = slash == std::string::npos ? *path : path->substr(slash + 1);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (name.size() >= sizeof(address.sun_path)) {
      IPN_LOG(WARNING) << "no " << FaceName(kind) << " face for /" << *path
                       << ": its name is longer than a socket address allows";
      return true;
    }
    std::memcpy(address.sun_path, name.data(), name.size());
    // Bind relative to the face directory: this thread's working directory is its own (the
    // private mount namespace or unshare(CLONE_FS) gave it one).
    ScopedFd directory(openat(root, dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!directory.valid() || fchdir(directory.get()) != 0) continue;  // Renamed meanwhile.
    const int type = kind == FaceKind::kSeqpacket ? SOCK_SEQPACKET : SOCK_STREAM;
    ScopedFd listener(socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!listener.valid()) {
      IPN_LOG(ERROR) << "socket for a " << FaceName(kind) << " face: " << strerror(errno);
      return false;
    }
    {
      absl::MutexLock lock(&mu_);
      binding_ = Binding{.tid = gettid(), .ino = ino, .kind = kind};
    }
    const int bound =
        bind(listener.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address));
    const int error = errno;
    {
      absl::MutexLock lock(&mu_);
      binding_ = Binding{};
    }
    if (bound == 0) {
      if (listen(listener.get(), kBacklog) != 0) {
        IPN_LOG(ERROR) << "listen on /." << FaceName(kind) << "/" << *path << ": "
                       << strerror(errno);
        return false;
      }
      IPN_LOG(DEBUG) << "bound /." << FaceName(kind) << "/" << *path;
      connections_->AddListener(ino, kind, std::move(listener));
      return true;
    }
    if (error != ENOENT && error != EROFS) {
      IPN_LOG(WARNING) << "cannot bind /." << FaceName(kind) << "/" << *path << ": "
                       << strerror(error);
      return false;
    }
  }
  IPN_LOG(WARNING) << "gave up binding a " << FaceName(kind) << " face of a network renamed "
                   << "while it was bound";
  return false;
}

bool SocketFaces::StillMounted() const {
  std::ifstream table(absl::StrCat("/proc/", getpid(), "/mountinfo"));
  const std::string wanted = MountinfoEscaped(mount_.mount_point);
  std::string line;
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string id, parent, device, root, point;
    if (fields >> id >> parent >> device >> root >> point && point == wanted) return true;
  }
  return false;
}

absl::StatusOr<Admission> SocketFaces::Admit(ino_t ino, FaceKind kind, const Peer& peer) {
  std::shared_ptr<Network> network;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = networks_.find(ino); it != networks_.end()) network = it->second.lock();
  }
  if (network == nullptr) return ErrnoError(ENOENT, "the network is gone");
  absl::StatusOr<Attributes> file = tree_.GetAttributes(ino);
  if (!file.ok()) return file.status();
  const Credentials who{.uid = peer.uid, .gid = peer.gid, .groups = peer.groups};
  const bool receives = MayAccess(file->mode, file->uid, file->gid, who, kMayRead);
  const bool sends = MayAccess(file->mode, file->uid, file->gid, who, kMayWrite);
  if (!receives && !sends) {
    network->CountRefusedConnection();
    return ErrnoError(EACCES, absl::StrCat("uid ", peer.uid, " (pid ", peer.pid,
                                           ") may neither send nor receive"));
  }
  const PortMode mode = receives && sends ? PortMode::kSendReceive
                        : receives        ? PortMode::kReceive
                                          : PortMode::kSend;
  const absl::Time now = absl::Now();
  PortOwner owner{.pid = peer.pid, .uid = peer.uid, .command = CommandOf(peer.pid)};
  absl::StatusOr<std::unique_ptr<Port>> port = network->Join(mode, std::move(owner), now);
  if (!port.ok()) {
    network->CountRefusedConnection();
    return port.status();
  }
  const PortOwner& joined = (*port)->owner();
  std::string details = absl::StrCat(
      "port=", (*port)->id(), " pid=", joined.pid, " uid=", joined.uid, " mode=", ModeName(mode),
      " comm=", joined.command.empty() ? "-" : joined.command, " face=", FaceName(kind));
  tree_.PublishEvent(ino, "join", details, now);
  return Admission{.port = *std::move(port), .leave_event = std::move(details)};
}

void SocketFaces::Left(ino_t ino, const std::string& leave_event) {
  tree_.PublishEvent(ino, "leave", leave_event, absl::Now());
}

}  // namespace ipnfs
