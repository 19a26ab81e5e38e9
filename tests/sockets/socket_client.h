// SocketClient: a client of a network's socket faces, as a program (QEMU, a VPN daemon) would use
// them: /.seqpacket/PATH (SOCK_SEQPACKET, one message per packet) and /.stream/PATH (SOCK_STREAM,
// each packet after its length as 4 bytes big-endian). Connects with a deadline, sends and
// receives one packet at a time (framing the stream), waits with deadlines so that a hung daemon
// fails a test instead of hanging it, and tells an end of the connection from silence.
//
// Move-only; use one object from one thread at a time (Send from one thread while another
// receives is fine: they touch different state).
#ifndef IPNFS_TESTS_SOCKETS_SOCKET_CLIENT_H_
#define IPNFS_TESTS_SOCKETS_SOCKET_CLIENT_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "tests/port_io.h"

namespace ipnfs::tests {

enum class SocketKind { kSeqpacket, kStream };

// ".seqpacket" or ".stream": the root tree of the face.
const char* TreeOf(SocketKind kind);
// "seqpacket" or "stream", for test names and messages.
const char* NameOf(SocketKind kind);
void PrintTo(SocketKind kind, std::ostream* os);
// The face of network `network` (relative to the root, e.g. "lab/net0") under `mount`.
std::string FacePath(const std::string& mount, SocketKind kind, absl::string_view network);

// The 4-byte big-endian length prefix of a stream frame, and a whole frame.
std::string LengthPrefix(uint32_t length);
std::string StreamFrame(absl::string_view packet);

class SocketClient {
 public:
  // One connect() to `path`; not valid() (and error() says why) when it fails.
  static SocketClient Connect(SocketKind kind, const std::string& path);
  // Connects, trying again while the socket is not there yet (ENOENT, ECONNREFUSED) for up to
  // `timeout`: for a daemon that is starting.
  static SocketClient ConnectWithin(SocketKind kind, const std::string& path,
                                    absl::Duration timeout = absl::Seconds(5));

  SocketClient() = default;
  SocketClient(SocketClient&&) = default;
  SocketClient& operator=(SocketClient&&) = default;

  bool valid() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  SocketKind kind() const { return kind_; }
  // The errno of a failed connect; 0 otherwise.
  int error() const { return error_; }

  // Sends one packet (a stream frame on a stream); `flags` for send(2), e.g. MSG_DONTWAIT.
  // Success: count is the packet's size. A stream send that the kernel takes only in part is
  // finished with blocking sends (a later frame must not start inside this one).
  IoResult Send(absl::string_view packet, int flags = 0);
  // Sends `bytes` as they are, without framing: for malformed input.
  IoResult SendRaw(absl::string_view bytes, int flags = 0);

  // Waits up to `timeout` for one packet. Success with the packet's bytes; the end of the
  // connection as success with count 0 and no bytes (IsClosed); ETIMEDOUT when nothing came.
  // A stream's partial frame before its end is discarded.
  IoResult Receive(absl::Duration timeout = absl::Seconds(5));
  // Receive() without waiting (ETIMEDOUT when nothing is there).
  IoResult ReceiveNow() { return Receive(absl::ZeroDuration()); }

  // shutdown(SHUT_WR): the peer sees the end of what we send; we still receive.
  void ShutdownWrite();
  void Close() { fd_.reset(); }

 private:
  SocketClient(SocketKind kind, Fd fd, int error)
      : kind_(kind), fd_(std::move(fd)), error_(error) {}

  // One frame from buffered_, if it holds a whole one.
  bool TakeFrame(std::string* packet);

  SocketKind kind_ = SocketKind::kSeqpacket;
  Fd fd_;
  int error_ = 0;
  std::string buffered_;  // Stream bytes received but not yet returned.
};

// Matches a Receive() that saw the end of the connection: EOF, or ECONNRESET.
::testing::Matcher<const IoResult&> IsClosed();

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_SOCKETS_SOCKET_CLIENT_H_
