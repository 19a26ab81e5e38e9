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
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/face_backend.h"
#include "core/port.h"
#include "uring/event_loop.h"
#include "uring/scoped_fd.h"

namespace ipnfs {

class Connection;
class ResumeRelay;

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
  // SO_SNDBUF of each stream connection; 0 keeps the kernel's default (about 200 KiB). The default
  // asks for less than the kernel's minimum, so it gets that (about 4.5 KiB, a few frames): what
  // waits in the socket is what a peer reading in bulk may get at once, and QEMU's stream backend
  // in front of an e1000 drops what the NIC's ring cannot take of such a read. The rest waits in
  // the port's queue, under its flow mode. e1000 downloads went from 18 to 56 MB/s with it; the
  // packet-rate rows of scripts/bench.sh did not change (docs/PERFORMANCE.md).
  int stream_send_buffer = 1024;
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
  // Once the EventLoop has stopped (every connection is closed by then). Flow control completions
  // that come later from other threads find nothing to resume.
  ~SocketLoop() override;

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
  enum class Op : uint8_t {
    kAccept = 1,  // A connection accepted on a listener.
    kRetry,       // A listener's pause after running out of descriptors or memory.
    kRecv,        // Bytes received on a connection (slot: its receive slot).
    kSend,        // A write to a connection (slot: the send in its batch).
    kCancel,      // Cancelling an object's requests before it closes (slot 1: its pause).
  };
  struct Listener;
  // One entry of the table: a listener or a connection (or neither, when free). Its index is the
  // object of completion tags, its generation is bumped at every reuse.
  struct Entry {
    std::unique_ptr<Listener> listener;
    std::unique_ptr<Connection> connection;
    uint32_t generation = 0;
  };

  SocketLoop(EventLoop& loop, SocketLoopOptions options, Admit admit, Left left);

  // Listeners (socket_loop_accept.cc).
  void InsertListener(ino_t ino, FaceKind kind, ScopedFd listener);
  void ArmAccept(Listener& listener);
  void OnAccept(Listener& listener, int result);
  void OnRetry(Listener& listener);
  // Lets accepted socket `fd` in as a connection, or closes it.
  void AdmitConnection(const Listener& listener, ScopedFd fd);
  void CloseListener(Listener& listener);

  // Connections (socket_loop.cc).
  void OnRecv(Connection& connection, size_t slot, int result);
  void OnSend(Connection& connection, size_t slot, int result);
  // Sends what the connection received into the network and re-arms its receives, unless a send
  // was parked; closes it at the end of its stream or on a bad frame.
  void Forward(Connection& connection);
  void ArmRecv(Connection& connection, size_t slot);
  // Writes what the port has queued when no write is in flight; true when it took something.
  bool Drain(Connection& connection);
  void IssueWrites(Connection& connection);
  void Resume(uint16_t index, uint32_t generation);
  // Starts closing `connection`: cancels its requests; Finish() follows once none is in flight.
  // `reason`, if any, is logged.
  void Close(Connection& connection, const std::string& reason);

  // The table.
  std::optional<uint16_t> FreeIndex();
  void Finish(uint16_t index);
  // The entry a completion is for, with the completion accounted for.
  Entry& Completed(const CompletionTag& tag);
  CompletionTag TagFor(Op op, uint16_t index, size_t slot) const;

  EventLoop& loop_;
  const SocketLoopOptions options_;
  const Admit admit_;
  const Left left_;
  const std::shared_ptr<ResumeRelay> relay_;
  uint8_t handler_ = 0;  // Set on registration, then constant.

  // Loop thread only.
  std::vector<Entry> table_;
  std::vector<uint16_t> free_;  // Free entries of table_, the last freed last.
  size_t objects_ = 0;          // Entries in use.
  uint64_t batch_ = 0;  // Counts AfterBatch() calls: connections read settings once a batch.
  bool stopping_ = false;
};

}  // namespace ipnfs

#endif  // IPNFS_SOCK_SOCKET_LOOP_H_
