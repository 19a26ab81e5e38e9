#include "tests/sockets/socket_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace ipnfs::tests {
namespace {

// One stream receive takes at most this much.
constexpr size_t kStreamChunk = 256 * 1024;

// Waits up to the deadline for POLLIN (or the end, or an error); false when nothing came.
bool WaitReadable(int fd, absl::Time deadline) {
  while (true) {
    pollfd entry{.fd = fd, .events = POLLIN, .revents = 0};
    const absl::Duration left = std::max(deadline - absl::Now(), absl::ZeroDuration());
    const int ready = ::poll(&entry, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return true;  // The receive reports the error.
    if (absl::Now() >= deadline) return false;
  }
}

}  // namespace

const char* TreeOf(SocketKind kind) {
  return kind == SocketKind::kSeqpacket ? ".seqpacket" : ".stream";
}

const char* NameOf(SocketKind kind) {
  return kind == SocketKind::kSeqpacket ? "seqpacket" : "stream";
}

void PrintTo(SocketKind kind, std::ostream* os) { *os << NameOf(kind); }

std::string FacePath(const std::string& mount, SocketKind kind, absl::string_view network) {
  return absl::StrCat(mount, "/", TreeOf(kind), "/", network);
}

std::string LengthPrefix(uint32_t length) {
  const char bytes[] = {static_cast<char>(length >> 24), static_cast<char>(length >> 16),
                        static_cast<char>(length >> 8), static_cast<char>(length)};
  return std::string(bytes, sizeof(bytes));
}

std::string StreamFrame(absl::string_view packet) {
  return absl::StrCat(LengthPrefix(static_cast<uint32_t>(packet.size())), packet);
}

SocketClient SocketClient::Connect(SocketKind kind, const std::string& path) {
  const int type = kind == SocketKind::kSeqpacket ? SOCK_SEQPACKET : SOCK_STREAM;
  Fd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return SocketClient(kind, Fd(), errno);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) return SocketClient(kind, Fd(), ENAMETOOLONG);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  while (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    if (errno != EINTR) return SocketClient(kind, Fd(), errno);
  }
  return SocketClient(kind, std::move(fd), 0);
}

SocketClient SocketClient::ConnectWithin(SocketKind kind, const std::string& path,
                                         absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    SocketClient client = Connect(kind, path);
    if (client.valid() || (client.error() != ENOENT && client.error() != ECONNREFUSED) ||
        absl::Now() >= deadline) {
      return client;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

IoResult SocketClient::SendRaw(absl::string_view bytes, int flags) {
  size_t sent = 0;
  for (;;) {
    const ssize_t n =
        ::send(fd_.get(), bytes.data() + sent, bytes.size() - sent, flags | MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Failed(errno);  // After part of a frame, the stream is broken anyway.
    sent += static_cast<size_t>(n);
    if (kind_ == SocketKind::kSeqpacket || sent == bytes.size()) break;
    flags &= ~MSG_DONTWAIT;  // Finish the frame that was started.
  }
  return Succeeded(static_cast<ssize_t>(sent), "");
}

IoResult SocketClient::Send(absl::string_view packet, int flags) {
  if (kind_ == SocketKind::kSeqpacket) return SendRaw(packet, flags);
  IoResult result = SendRaw(StreamFrame(packet), flags);
  if (result.error == 0) result.count = static_cast<ssize_t>(packet.size());
  return result;
}

bool SocketClient::TakeFrame(std::string* packet) {
  if (buffered_.size() < 4) return false;
  const auto byte = [&](size_t i) { return static_cast<uint32_t>(uint8_t(buffered_[i])); };
  const uint32_t length = byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
  if (buffered_.size() < 4 + size_t{length}) return false;
  *packet = buffered_.substr(4, length);
  buffered_.erase(0, 4 + size_t{length});
  return true;
}

IoResult SocketClient::Receive(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  if (kind_ == SocketKind::kSeqpacket) {
    if (!WaitReadable(fd_.get(), deadline)) return Failed(ETIMEDOUT);
    std::vector<char> buffer(kAnyPacket);
    ssize_t n;
    do {
      n = ::recv(fd_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return Failed(errno == EAGAIN ? ETIMEDOUT : errno);
    return Succeeded(n, std::string(buffer.data(), static_cast<size_t>(n)));
  }
  std::string packet;
  std::vector<char> buffer(kStreamChunk);
  while (!TakeFrame(&packet)) {
    if (!WaitReadable(fd_.get(), deadline)) return Failed(ETIMEDOUT);
    const ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return Failed(errno);
    if (n == 0) {
      buffered_.clear();
      return Succeeded(0, "");
    }
    buffered_.append(buffer.data(), static_cast<size_t>(n));
  }
  const auto size = static_cast<ssize_t>(packet.size());
  return Succeeded(size, std::move(packet));
}

void SocketClient::ShutdownWrite() { ::shutdown(fd_.get(), SHUT_WR); }

::testing::Matcher<const IoResult&> IsClosed() {
  return ::testing::AnyOf(::testing::AllOf(::testing::Field("error", &IoResult::error, 0),
                                           ::testing::Field("count", &IoResult::count, 0)),
                          ::testing::Field("error", &IoResult::error, ECONNRESET));
}

}  // namespace ipnfs::tests
