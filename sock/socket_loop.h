// SocketLoop: the socket faces' handler on a uring::EventLoop. It accepts connections on the
// listening sockets of every network's faces (/.seqpacket/PATH, /.stream/PATH), makes each
// accepted connection a port of its network, and moves packets between connections and networks
// with io_uring: reads kept armed on every connection, several packets per submission both ways,
// writes straight from the shared packet (no copy per receiver), no thread per connection.
//
// Threads: AddListener() and RemoveNetwork() may be called from any thread, the loop's included;
// they hand the work to the loop and never wait. Everything else runs on the loop thread. The
// EventLoop must be stopped before the SocketLoop is destroyed.
#ifndef IPNFS_SOCK_SOCKET_LOOP_H_
#define IPNFS_SOCK_SOCKET_LOOP_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/face_backend.h"
#include "core/port.h"
#include "uring/event_loop.h"
#include "uring/scoped_fd.h"

namespace ipnfs {

// The process at the other end of an accepted connection (SO_PEERCRED, SO_PEERGROUPS).
struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // Supplementary groups.
};

// A connection let in: its port, joined to the network with the mode the peer may have, and the
// details of the "leave" event published when it closes.
struct Admission {
  std::unique_ptr<Port> port;
  std::string leave_event;
};

struct SocketLoopOptions {
  size_t seqpacket_reads = 8;  // Receives kept armed per seqpacket connection.
  size_t writes = 32;          // Packets in flight to one connection at most; more stay queued.
  size_t stream_buffer = 256 * 1024;  // Bytes one receive from a stream connection may take.
};

class SocketLoop final : public EventLoop::Handler {
 public:
  // Asked on the loop thread for every connection accepted on face `kind` of network `ino`: its
  // port, or why it is refused (the connection is then closed at once, with no data).
  using Admit =
      std::function<absl::StatusOr<Admission>(ino_t ino, FaceKind kind, const Peer& peer)>;
  // Called on the loop thread once the port of a connection to network `ino` has left.
  using Left = std::function<void(ino_t ino, const std::string& leave_event)>;

  // Registers a SocketLoop on `loop`, which outlives it. Any thread but the loop's.
  static absl::StatusOr<std::unique_ptr<SocketLoop>> Create(EventLoop& loop,
                                                            SocketLoopOptions options, Admit admit,
                                                            Left left);
  SocketLoop(const SocketLoop&) = delete;
  SocketLoop& operator=(const SocketLoop&) = delete;

  // From now on accepts connections on `listener` (a bound, listening Unix socket of type
  // SOCK_SEQPACKET or SOCK_STREAM, as `kind` says) for network `ino`. Never waits; the listener
  // is closed at once if the loop has stopped.
  void AddListener(ino_t ino, FaceKind kind, ScopedFd listener);

  // Closes the listeners of network `ino` and every connection accepted on them (their ports
  // leave). Never waits. Nothing happens for a network without listeners.
  void RemoveNetwork(ino_t ino);

  // EventLoop::Handler; everything below runs on the loop thread.
  void OnCompletion(const CompletionTag& tag, int result) override;
  void AfterBatch() override;
  void OnStop() override;
  bool Idle() const override;

 private:
  // Implementation: see sock/socket_loop.cc.
};

}  // namespace ipnfs

#endif  // IPNFS_SOCK_SOCKET_LOOP_H_
