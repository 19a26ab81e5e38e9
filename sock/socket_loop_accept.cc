// SocketLoop: the listeners, and admitting the connections accepted on them.
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "sock/connection.h"
#include "sock/listener.h"
#include "sock/peer_credentials.h"
#include "sock/send_gate.h"
#include "sock/socket_loop.h"

namespace ipnfs {
namespace {

// How long a listener pauses after running out of descriptors or memory, before it accepts again.
constexpr int64_t kPauseNanoseconds = 100'000'000;

// Requests of kCancel on a listener.
constexpr uint16_t kCancelAccept = 0;
constexpr uint16_t kCancelPause = 1;

}  // namespace

void SocketLoop::InsertListener(ino_t ino, FaceKind kind, ScopedFd socket) {
  if (stopping_) return;  // Closes it.
  const std::optional<uint16_t> index = FreeIndex();
  if (!index.has_value()) {
    IPN_LOG(WARNING) << "the " << FaceName(kind) << " face of network " << ino
                     << " is not served: the socket faces have their maximum of open sockets";
    return;
  }
  Entry& entry = table_[*index];
  entry.listener = std::make_unique<Listener>(ino, kind, std::move(socket));
  Listener& listener = *entry.listener;
  listener.index = *index;
  listener.generation = entry.generation & CompletionTag::kGenerationMask;
  ++objects_;
  ArmAccept(listener);
}

void SocketLoop::ArmAccept(Listener& listener) {
  io_uring_sqe* sqe = loop_.ring().GetSqe();
  io_uring_prep_accept(sqe, listener.socket.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  Ring::Tag(sqe, TagFor(Op::kAccept, listener.index, 0));
  ++listener.in_flight;
}

void SocketLoop::OnAccept(Listener& listener, int result) {
  if (result >= 0) {
    ScopedFd accepted(result);
    if (listener.closing) return CloseListener(listener);  // Closes `accepted` too.
    listener.failures = 0;
    ArmAccept(listener);
    return AdmitConnection(listener, std::move(accepted));
  }
  if (listener.closing) return CloseListener(listener);
  switch (-result) {
    case EINTR:
    case EAGAIN:
    case ECONNABORTED:  // The peer gave up before it was accepted.
      return ArmAccept(listener);
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      // Accepting again at once would fail at once: pause, and log the first failure only.
      if (listener.failures++ == 0) {
        IPN_LOG(WARNING) << "accepting on the " << FaceName(listener.kind) << " face of network "
                         << listener.ino << " failed: " << std::strerror(-result)
                         << "; retrying every " << kPauseNanoseconds / 1'000'000 << " ms";
      }
      {
        listener.pause = {.tv_sec = 0, .tv_nsec = kPauseNanoseconds};
        io_uring_sqe* sqe = loop_.ring().GetSqe();
        io_uring_prep_timeout(sqe, &listener.pause, 0, 0);
        Ring::Tag(sqe, TagFor(Op::kRetry, listener.index, 0));
        ++listener.in_flight;
        listener.pausing = true;
      }
      return;
    default:
      IPN_LOG(WARNING) << "accepting on the " << FaceName(listener.kind) << " face of network "
                       << listener.ino << " failed: " << std::strerror(-result)
                       << "; the face is closed";
      return CloseListener(listener);
  }
}

void SocketLoop::OnRetry(Listener& listener) {
  listener.pausing = false;
  if (listener.closing) return CloseListener(listener);
  ArmAccept(listener);
}

void SocketLoop::AdmitConnection(const Listener& listener, ScopedFd socket) {
  const std::optional<uint16_t> index = FreeIndex();
  if (!index.has_value()) {
    IPN_LOG(WARNING) << "refused a " << FaceName(listener.kind) << " connection to network "
                     << listener.ino << ": the socket faces have their maximum of open sockets";
    return;  // Closes it.
  }
  absl::StatusOr<Peer> peer = ReadPeerCredentials(socket.get());
  if (!peer.ok()) {
    free_.push_back(*index);
    IPN_LOG(WARNING) << "refused a " << FaceName(listener.kind) << " connection to network "
                     << listener.ino << ": " << peer.status().message();
    return;
  }
  absl::StatusOr<Admission> admission = admit_(listener.ino, listener.kind, *peer);
  if (!admission.ok() || admission->port == nullptr) {
    free_.push_back(*index);
    IPN_LOG(INFO) << "refused a " << FaceName(listener.kind) << " connection of pid " << peer->pid
                  << " (uid " << peer->uid << ") to network " << listener.ino << ": "
                  << (admission.ok() ? "no port" : admission.status().message());
    return;  // Closed at once, before anything was sent.
  }
  if (listener.kind == FaceKind::kStream && options_.stream_send_buffer > 0 &&
      setsockopt(socket.get(), SOL_SOCKET, SO_SNDBUF, &options_.stream_send_buffer,
                 sizeof(options_.stream_send_buffer)) != 0) {
    IPN_LOG(WARNING) << "SO_SNDBUF of a stream connection: " << strerror(errno);
  }
  Entry& entry = table_[*index];
  const uint32_t generation = entry.generation & CompletionTag::kGenerationMask;
  entry.connection = std::make_unique<Connection>(
      listener.ino, listener.kind, std::move(socket), *std::move(admission),
      absl::StrCat(FaceName(listener.kind), " connection of pid ", peer->pid, " to network ",
                   listener.ino),
      std::make_shared<Doorbell>(loop_.wakeup()),
      std::make_shared<SendGate>(relay_, *index, generation), options_);
  Connection& connection = *entry.connection;
  connection.index = *index;
  connection.generation = generation;
  ++objects_;
  connection.Refresh(batch_);
  for (size_t slot = 0; slot < connection.read_slots(); ++slot) ArmRecv(connection, slot);
  Drain(connection);
}

void SocketLoop::CloseListener(Listener& listener) {
  if (!listener.closing) {
    listener.closing = true;
    io_uring_sqe* sqe = loop_.ring().GetSqe();
    io_uring_prep_cancel_fd(sqe, listener.socket.get(), IORING_ASYNC_CANCEL_ALL);
    Ring::Tag(sqe, TagFor(Op::kCancel, listener.index, kCancelAccept));
    ++listener.in_flight;
    if (listener.pausing) {
      sqe = loop_.ring().GetSqe();
      io_uring_prep_timeout_remove(sqe, Encode(TagFor(Op::kRetry, listener.index, 0)), 0);
      Ring::Tag(sqe, TagFor(Op::kCancel, listener.index, kCancelPause));
      ++listener.in_flight;
    }
  }
  if (listener.in_flight == 0) Finish(listener.index);
}

}  // namespace ipnfs
