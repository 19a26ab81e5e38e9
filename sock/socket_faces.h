// SocketFaces: the FaceBackend of the daemon. It gives every network its two sockets,
// /.seqpacket/PATH and /.stream/PATH, by binding them through the mount itself, so that they are
// real socket inodes of the filesystem (ls -l shows `s`, connect(2) finds them by path), and hands
// the listening sockets to a SocketLoop that serves every connection on one io_uring thread.
//
// Binding. A Unix socket bound to a path is found by connect(2) through the inode at that path;
// bind(2) makes that inode with a MKNOD the daemon answers itself (Namespace::BindFace), so the
// binder is a thread of its own, never a FUSE thread. The creator of a network holds its
// directory's lock until it gets its reply: the reply is sent only once the faces are bound
// (WhenExposed), and meanwhile the binder walks only the face trees, from file descriptors it
// holds, never the creator's directory. No FUSE thread waits for a bind.
//
// Which mount. As root the file system is mounted detached first (FuseMount): the binder opens
// the face roots through a clone of that mount, binds the faces of the networks restored so far,
// and only then attaches the mount where users can reach it, so that every face exists as soon as
// its network does, from the very first request. The bound sockets pin the clone, not the user's
// mount: `fusermount3 -u` still works, and the binder, watching the user's mount table, closes
// every face once the mount is gone so the daemon can end. Without a clone (an older kernel) the
// binder runs in a private copy of the mount namespace, to the same end. Without CAP_SYS_ADMIN the
// sockets pin the user's mount (unmount it lazily: `fusermount3 -u -z`), and a network created in
// the first milliseconds after the mount, before the binder holds the face roots, gets its
// sockets a moment after the create returns.
//
// Access. Each accepted connection is authorized from the peer's credentials against the
// network's mode at that moment, like an open: r receives, w sends, neither is refused (closed
// at once, logged, counted in connections_refused). Root may do anything.
//
// Thread-safe. Expose, Withdraw, WhenExposed and IsBinding never block (the namespace calls the
// first two with its lock held; IsBinding takes only this class's lock).
#ifndef IPNFS_SOCK_SOCKET_FACES_H_
#define IPNFS_SOCK_SOCKET_FACES_H_

#include <sys/types.h>

#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/face_backend.h"
#include "core/namespace.h"
#include "sock/socket_loop.h"
#include "uring/event_loop.h"
#include "uring/scoped_fd.h"

namespace ipnfs {

struct SocketFacesOptions {
  SocketLoopOptions connections;
  unsigned ring_entries = 1024;
  absl::Duration busy_poll = absl::ZeroDuration();  // --busy_poll_us, as for the tap loop.
};

// How the binder reaches the mount.
struct FaceMount {
  std::string mount_point;  // Absolute.
  // A way into the mount that users do not see (FuseMount::Clone), or an error: the binder then
  // goes through mount_point once attached.
  absl::AnyInvocable<absl::StatusOr<ScopedFd>()> clone;
  // Puts the mount where users reach it: called once, after the faces exposed before Start() are
  // bound (unless stopping first).
  absl::AnyInvocable<void()> attach;
};

class SocketFaces final : public FaceBackend {
 public:
  // Starts the connections' event loop ("ipnfs-sockets"). `tree` must outlive this. Faces exposed
  // before Start() are bound once it runs.
  static absl::StatusOr<std::unique_ptr<SocketFaces>> Create(Namespace& tree,
                                                             SocketFacesOptions options);
  SocketFaces(const SocketFaces&) = delete;
  SocketFaces& operator=(const SocketFaces&) = delete;
  ~SocketFaces() override;  // Stop().

  // Binds through `mount` (being served) from now on: starts the binder thread. Once only.
  void Start(FaceMount mount);

  // Binds nothing more and answers every WhenExposed callback still pending (on this thread),
  // without waiting for the binder: call it while the session can still carry the replies. The
  // binder may be inside a FUSE request that only ends once the session is gone.
  void Close();
  // Close(), then ends both threads, closing every face and connection: call it once the session
  // is gone. Idempotent.
  void Stop();

  // FaceBackend.
  void Expose(ino_t ino, const std::shared_ptr<Network>& network) override;
  void Withdraw(ino_t ino) override;
  void WhenExposed(absl::AnyInvocable<void()> done) override;
  bool IsBinding(pid_t tid, ino_t ino, FaceKind kind) const override;

 private:
  // One thing for the binder to do, in order.
  struct Job {
    enum class Kind { kExpose, kWithdraw, kCallback } kind;
    ino_t ino = 0;
    absl::AnyInvocable<void()> callback;
  };
  // What the binder is binding now: IsBinding's answer.
  struct Binding {
    pid_t tid = 0;
    ino_t ino = 0;
    FaceKind kind = FaceKind::kSeqpacket;
  };

  SocketFaces(Namespace& tree, SocketFacesOptions options);

  // Loop thread: a connection to face `kind` of network `ino` from `peer`.
  absl::StatusOr<Admission> Admit(ino_t ino, FaceKind kind, const Peer& peer);
  void Left(ino_t ino, const std::string& leave_event);

  // Any thread: the binder looks at its jobs (and at stopping) again.
  void WakeBinder();
  // Binder thread.
  void RunBinder();
  // Opens the face roots through a clone of the mount; false without one.
  bool OpenRootsInClone();
  // Opens the face roots through the mount point, in a private mount namespace if it may.
  void OpenRootsInMountPoint();
  void EnterPrivateMounts();
  // Runs the queued jobs until none is left or stopping; false when stopping.
  bool RunJobs();
  bool Bind(ino_t ino, FaceKind kind);
  bool StillMounted() const;
  // Closes every face (the mount is gone, or stopping).
  void CloseAll();

  Namespace& tree_;
  const SocketFacesOptions options_;
  FaceMount mount_;             // Binder thread only, once started.
  bool watch_unmount_ = false;  // Binder thread only: the sockets do not pin the user's mount.
  ScopedFd face_roots_[3];      // Binder thread only: /.seqpacket, /.stream by FaceKind.
  ScopedFd wake_;               // An eventfd: a job is queued, or stop.

  mutable absl::Mutex mu_;
  std::deque<Job> jobs_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<ino_t, std::weak_ptr<Network>> networks_ ABSL_GUARDED_BY(mu_);
  Binding binding_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  // The binder holds the face trees' roots: until then no reply may wait for it (a creator at the
  // root holds the lock the binder needs to open them).
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;  // Every face closed: callbacks run at once.

  std::thread binder_;
  // Last: the loop stops (closing every connection) before the handler goes.
  std::unique_ptr<SocketLoop> connections_;
  std::unique_ptr<EventLoop> loop_;
};

}  // namespace ipnfs

#endif  // IPNFS_SOCK_SOCKET_FACES_H_
