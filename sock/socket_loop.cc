#include "sock/socket_loop.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/log.h"
#include "core/network.h"
#include "sock/connection.h"
#include "sock/listener.h"
#include "sock/send_gate.h"

namespace ipnfs {

absl::StatusOr<std::unique_ptr<SocketLoop>> SocketLoop::Create(EventLoop& loop,
                                                               SocketLoopOptions options,
                                                               Admit admit, Left left) {
  std::unique_ptr<SocketLoop> sockets(
      new SocketLoop(loop, std::move(options), std::move(admit), std::move(left)));
  absl::Status registered = loop.Call([&sockets = *sockets, &loop]() {
    sockets.handler_ = loop.Register(sockets);
    return absl::OkStatus();
  });
  if (!registered.ok()) return registered;
  return sockets;
}

SocketLoop::SocketLoop(EventLoop& loop, SocketLoopOptions options, Admit admit, Left left)
    : loop_(loop),
      options_(std::move(options)),
      admit_(std::move(admit)),
      left_(std::move(left)),
      relay_(std::make_shared<ResumeRelay>(
          loop, [this](uint16_t index, uint32_t generation) { Resume(index, generation); })) {}

SocketLoop::~SocketLoop() { relay_->Detach(); }

void SocketLoop::AddListener(ino_t ino, FaceKind kind, ScopedFd listener) {
  // Posted even from the loop thread, so that a hook (Admit, Left) calling this never changes the
  // table under the loop's feet. A task the ended loop drops closes the listener.
  loop_.Post([this, ino, kind, listener = std::move(listener)]() mutable {
    InsertListener(ino, kind, std::move(listener));
  });
}

void SocketLoop::RemoveNetwork(ino_t ino) {
  loop_.Post([this, ino]() {
    for (size_t i = 0; i < table_.size(); ++i) {
      if (Listener* listener = table_[i].listener.get(); listener && listener->ino == ino) {
        CloseListener(*listener);
      } else if (Connection* connection = table_[i].connection.get();
                 connection && connection->ino() == ino) {
        Close(*connection, "");
      }
    }
  });
}

void SocketLoop::OnCompletion(const CompletionTag& tag, int result) {
  // The socket faces' data path. Every listener and connection is an entry of table_; its
  // requests are tagged with its index and generation, so a stale completion is caught.
  //
  // - Accept: each listener keeps one accept armed. An accepted socket's peer (SO_PEERCRED,
  //   SO_PEERGROUPS) goes to the Admit hook; a refused connection is closed at once, an admitted
  //   one becomes a Connection owning the admission's port.
  // - Peer -> network: a seqpacket connection keeps options_.seqpacket_reads receives armed (with
  //   MSG_TRUNC, so an over-MTU message shows its real size and is refused by the network, which
  //   counts it); their completions arrive in the order the messages were taken from the socket,
  //   and are sent in that order. A stream connection keeps one receive armed into a large buffer,
  //   cut into frames by a StreamDeframer (a bad length prefix closes it and is counted). Under
  //   flow control "block" a send the network parks stops the connection: nothing more is sent or
  //   received from it until the send's waiter completes (on any thread) and its ResumeRelay
  //   posts the resumption here; the peer meanwhile blocks on its full socket. No thread waits.
  // - Network -> peer: a port's poll waiter rings the connection's doorbell; after each batch
  //   (AfterBatch) the loop takes the queued packets of every rung port whose previous write batch
  //   is done, at most options_.writes, and writes them from the packets themselves: a chain of
  //   linked sends for seqpacket (one message each, in order), one sendmsg of [length, packet]...
  //   for a stream, sent again from where a short write stopped. More packets wait in the port's
  //   queue (which drops and counts beyond qlen, or holds senders back under "block"). The event
  //   loop submits everything a batch prepared with one io_uring_enter.
  // - Closing (end of file, a peer gone, RemoveNetwork, OnStop) cancels the object's requests and
  //   frees it only when its last completion is in: its port leaves the network, its socket is
  //   closed, then the Left hook runs.
  Entry& entry = Completed(tag);
  switch (tag.op_as<Op>()) {
    case Op::kAccept:
      return OnAccept(*entry.listener, result);
    case Op::kRetry:
      return OnRetry(*entry.listener);
    case Op::kRecv:
      return OnRecv(*entry.connection, tag.slot, result);
    case Op::kSend:
      return OnSend(*entry.connection, tag.slot, result);
    case Op::kCancel:  // Already closing: settles it.
      if (entry.listener != nullptr) return CloseListener(*entry.listener);
      return Close(*entry.connection, "");
  }
  IPN_LOG(FATAL) << "socket completion with unknown op " << int{tag.op};
}

bool SocketLoop::Idle() const { return objects_ == 0; }

SocketLoop::Entry& SocketLoop::Completed(const CompletionTag& tag) {
  IPN_CHECK(tag.object < table_.size() &&
            tag.generation == (table_[tag.object].generation & CompletionTag::kGenerationMask))
      << "completion for a socket that is gone (" << tag.object << ")";
  Entry& entry = table_[tag.object];
  if (entry.listener != nullptr) {
    --entry.listener->in_flight;
  } else {
    IPN_CHECK(entry.connection != nullptr) << "completion for a free entry " << tag.object;
    --entry.connection->in_flight;
  }
  return entry;
}

CompletionTag SocketLoop::TagFor(Op op, uint16_t index, size_t slot) const {
  return MakeTag(handler_, op, table_[index].generation & CompletionTag::kGenerationMask, index,
                 static_cast<uint16_t>(slot));
}

std::optional<uint16_t> SocketLoop::FreeIndex() {
  if (!free_.empty()) {
    const uint16_t index = free_.back();
    free_.pop_back();
    return index;
  }
  // Object 65535 is left out: at most 65535 objects, as the contract with the faces says.
  if (table_.size() >= CompletionTag::kMaxObjects - 1) return std::nullopt;
  table_.emplace_back();
  return static_cast<uint16_t>(table_.size() - 1);
}

void SocketLoop::Finish(uint16_t index) {
  Entry& entry = table_[index];
  ++entry.generation;
  free_.push_back(index);
  --objects_;
  if (entry.listener != nullptr) {
    entry.listener.reset();  // Closes the listening socket.
    return;
  }
  const ino_t ino = entry.connection->ino();
  const std::string leave_event = entry.connection->leave_event();
  entry.connection.reset();  // The port leaves the network, then the socket closes.
  if (left_) left_(ino, leave_event);
}

void SocketLoop::OnRecv(Connection& connection, size_t slot, int result) {
  if (connection.closing) return Close(connection, "");
  if (result < 0) {
    // ECONNRESET: the peer died with data unread; nothing to report.
    return Close(connection, result == -ECONNRESET
                                 ? ""
                                 : absl::StrCat("receiving failed: ", std::strerror(-result)));
  }
  connection.Refresh(batch_);
  connection.Received(slot, static_cast<size_t>(result));
  Forward(connection);
}

void SocketLoop::Forward(Connection& connection) {
  switch (connection.Pump(absl::Now())) {
    case Connection::Pumped::kParked:
      return;  // Resume() goes on.
    case Connection::Pumped::kEof:
      return Close(connection, "");
    case Connection::Pumped::kBadFrame:
      IPN_LOG(WARNING) << connection.label() << ": a frame length of " << connection.bad_length()
                       << " (0 or above the MTU): closing it";
      connection.port().network().CountBadFrame();
      return Close(connection, "");
    case Connection::Pumped::kDrained:
      break;
  }
  for (size_t slot = 0; slot < connection.read_slots(); ++slot) {
    if (connection.SlotIdle(slot)) ArmRecv(connection, slot);
  }
}

void SocketLoop::ArmRecv(Connection& connection, size_t slot) {
  const absl::Span<uint8_t> buffer = connection.ArmSlot(slot);
  io_uring_sqe* sqe = loop_.ring().GetSqe();
  // MSG_TRUNC: a message larger than the buffer reports its real size.
  io_uring_prep_recv(sqe, connection.fd(), buffer.data(), buffer.size(),
                     connection.kind() == FaceKind::kSeqpacket ? MSG_TRUNC : 0);
  Ring::Tag(sqe, TagFor(Op::kRecv, connection.index, slot));
  ++connection.in_flight;
}

void SocketLoop::Resume(uint16_t index, uint32_t generation) {
  if (index >= table_.size()) return;
  Connection* connection = table_[index].connection.get();
  // Gone meanwhile (the completion came from its port leaving), or its entry reused.
  if (connection == nullptr || connection->generation != generation) return;
  connection->Resumed();
  if (connection->closing) return;
  connection->Refresh(batch_);
  Forward(*connection);
}

bool SocketLoop::Drain(Connection& connection) {
  if (connection.closing || connection.writes().busy()) return false;
  if (connection.TakeQueued(absl::Now()) == 0) return false;
  connection.writes().Start();
  IssueWrites(connection);
  return true;
}

void SocketLoop::IssueWrites(Connection& connection) {
  WriteBatch& writes = connection.writes();
  Ring& ring = loop_.ring();
  if (connection.kind() == FaceKind::kStream) {
    io_uring_sqe* sqe = ring.GetSqe();
    // MSG_WAITALL: the kernel itself goes on after a short write when it can.
    io_uring_prep_sendmsg(sqe, connection.fd(), writes.message(), MSG_NOSIGNAL | MSG_WAITALL);
    Ring::Tag(sqe, TagFor(Op::kSend, connection.index, 0));
    ++connection.in_flight;
    return;
  }
  // One chain, submitted whole: each send starts once the one before is done, so the messages
  // leave in order even when the peer's socket is full and they wait.
  const size_t sends = writes.sends();
  ring.Reserve(static_cast<unsigned>(sends));
  for (size_t i = 0; i < sends; ++i) {
    const absl::Span<const uint8_t> bytes = writes.send(i);
    io_uring_sqe* sqe = ring.GetSqe();
    io_uring_prep_send(sqe, connection.fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (i + 1 < sends) sqe->flags |= IOSQE_IO_LINK;
    Ring::Tag(sqe, TagFor(Op::kSend, connection.index, i));
    ++connection.in_flight;
  }
}

void SocketLoop::OnSend(Connection& connection, size_t slot, int result) {
  if (connection.closing) return Close(connection, "");
  WriteBatch& writes = connection.writes();
  const WriteBatch::Next next = connection.kind() == FaceKind::kStream ? writes.StreamSent(result)
                                                                       : writes.Sent(slot, result);
  switch (next) {
    case WriteBatch::Next::kWait:
      return;
    case WriteBatch::Next::kResend:
      return IssueWrites(connection);
    case WriteBatch::Next::kClose:
      if (writes.error() == EPIPE || writes.error() == ECONNRESET) return Close(connection, "");
      return Close(connection, absl::StrCat("writing failed: ", std::strerror(writes.error())));
    case WriteBatch::Next::kDone:
      Drain(connection);
      return;
  }
}

void SocketLoop::AfterBatch() {
  ++batch_;
  // Draining a port may let senders held back under "block" go, whose packets may ring doorbells
  // of connections already passed: look again until a pass takes nothing under "block".
  bool again = true;
  while (again) {
    again = false;
    for (size_t i = 0; i < table_.size(); ++i) {
      Connection* connection = table_[i].connection.get();
      if (connection == nullptr || !connection->doorbell().Answer()) continue;
      if (Drain(*connection) && connection->flow() == Flow::kBlock) again = true;
    }
  }
}

void SocketLoop::Close(Connection& connection, const std::string& reason) {
  if (!connection.closing) {
    connection.closing = true;
    if (!reason.empty()) IPN_LOG(INFO) << connection.label() << " closed: " << reason;
    connection.StopWatching();
    io_uring_sqe* sqe = loop_.ring().GetSqe();
    io_uring_prep_cancel_fd(sqe, connection.fd(), IORING_ASYNC_CANCEL_ALL);
    Ring::Tag(sqe, TagFor(Op::kCancel, connection.index, 0));
    ++connection.in_flight;
  }
  if (connection.in_flight == 0) Finish(connection.index);
}

void SocketLoop::OnStop() {
  stopping_ = true;
  for (size_t i = 0; i < table_.size(); ++i) {
    if (Listener* listener = table_[i].listener.get()) {
      CloseListener(*listener);
    } else if (Connection* connection = table_[i].connection.get()) {
      Close(*connection, "");
    }
  }
}

}  // namespace ipnfs
