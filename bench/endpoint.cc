#include "bench/endpoint.h"

#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "ipnfs/framing.h"
#include "ipnfs/ipnfs_ioctl.h"

extern "C" {
#include <libvdeplug.h>
}

namespace ipnfs::bench {
namespace {

// Receive buffer of the one-frame-per-call endpoints: every benchmark frame fits.
constexpr size_t kFrameBuffer = 2048;
// The benchmark's EtherType (IEEE 802 local experimental): packet sockets listen for it only.
constexpr uint16_t kEtherType = 0x88b5;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "blast: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

// Endpoints where one frame is one write(2) or one read(2) on one descriptor: ipnfs files, taps,
// packet sockets, unix datagram sockets.
class FdEndpoint : public Endpoint {
 public:
  FdEndpoint(int fd, size_t buffer_size) : fd_(fd), buffer_(buffer_size) {}
  ~FdEndpoint() override { close(fd_); }

  int Send(Frame frame, int copies) override {
    for (int i = 0; i < copies; ++i) {
      if (write(fd_, frame.data(), frame.size()) < 0) return i > 0 ? i : -errno;
    }
    return copies;
  }

  int Receive(const FrameFn& on_frame) override {
    const ssize_t n = read(fd_, buffer_.data(), buffer_.size());
    if (n < 0) return -errno;
    on_frame(Frame(buffer_.data(), static_cast<size_t>(n)));
    return 1;
  }

 protected:
  const int fd_;
  std::vector<uint8_t> buffer_;
};

// An ipnfs port in framed mode: a whole batch per write, every queued frame (that fits) per read.
class FramedEndpoint final : public FdEndpoint {
 public:
  FramedEndpoint(int fd, size_t buffer_size) : FdEndpoint(fd, buffer_size) {}

  int Send(Frame frame, int copies) override {
    const size_t framed = IPNFS_FRAME_HEADER_BYTES + frame.size();
    if (batch_.size() != framed * copies ||
        std::memcmp(batch_.data() + IPNFS_FRAME_HEADER_BYTES, frame.data(), frame.size()) != 0) {
      batch_.resize(framed * copies);
      for (int i = 0; i < copies; ++i) {
        if (ipnfs_frame_append(batch_.data() + i * framed, framed, frame.data(), frame.size()) !=
            IPNFS_FRAME_COMPLETE) {
          batch_.clear();
          return -EMSGSIZE;  // Over 65535 bytes: blast's frames (at most 1514) never are.
        }
      }
    }
    const ssize_t n = write(fd_, batch_.data(), batch_.size());
    if (n < 0) return -errno;
    return static_cast<int>(static_cast<size_t>(n) / framed);
  }

  int Receive(const FrameFn& on_frame) override {
    const ssize_t n = read(fd_, buffer_.data(), buffer_.size());
    if (n < 0) return -errno;
    int frames = 0;
    size_t offset = 0;
    ipnfs_frame frame{};
    // Stops at the end, or at a truncated (malformed) frame: the rest is ignored.
    while (ipnfs_frame_parse(buffer_.data() + offset, static_cast<size_t>(n) - offset, &frame) ==
           IPNFS_FRAME_COMPLETE) {
      on_frame(Frame(frame.packet, frame.packet_bytes));
      offset += frame.frame_bytes;
      ++frames;
    }
    return frames;
  }

 private:
  std::vector<uint8_t> batch_;  // Framed copies of the last frame sent, kept for the next batch.
};

// A connection to a VDE switch through libvdeplug.
class VdeEndpoint final : public Endpoint {
 public:
  explicit VdeEndpoint(VDECONN* conn) : conn_(conn), buffer_(kFrameBuffer) {}
  ~VdeEndpoint() override { vde_close(conn_); }

  int Send(Frame frame, int copies) override {
    for (int i = 0; i < copies; ++i) {
      if (vde_send(conn_, frame.data(), frame.size(), 0) < 0) return i > 0 ? i : -errno;
    }
    return copies;
  }

  int Receive(const FrameFn& on_frame) override {
    const ssize_t n = vde_recv(conn_, buffer_.data(), buffer_.size(), 0);
    if (n < 0) return -errno;
    on_frame(Frame(buffer_.data(), static_cast<size_t>(n)));
    return 1;
  }

 private:
  VDECONN* const conn_;
  std::vector<uint8_t> buffer_;
};

// A connected SOCK_SEQPACKET socket (an ipnfs socket face): one message is one frame, each way.
// MSG_NOSIGNAL: a closed connection is an error the sender reports, not a silent SIGPIPE death.
class SeqpacketEndpoint final : public Endpoint {
 public:
  explicit SeqpacketEndpoint(int fd) : fd_(fd), buffer_(kFrameBuffer) {}
  ~SeqpacketEndpoint() override { close(fd_); }

  int Send(Frame frame, int copies) override {
    for (int i = 0; i < copies; ++i) {
      if (send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL) < 0) return i > 0 ? i : -errno;
    }
    return copies;
  }

  int Receive(const FrameFn& on_frame) override {
    const ssize_t n = recv(fd_, buffer_.data(), buffer_.size(), 0);
    if (n < 0) return -errno;
    if (n == 0) return -ECONNRESET;  // The other end closed: no frame is empty.
    on_frame(Frame(buffer_.data(), static_cast<size_t>(n)));
    return 1;
  }

 private:
  const int fd_;
  std::vector<uint8_t> buffer_;
};

// A connected SOCK_STREAM socket carrying frames each after its length, 4 bytes big-endian.
class StreamEndpoint final : public Endpoint {
 public:
  static constexpr size_t kHeaderBytes = 4;
  // One receive takes at most this much; a frame never exceeds kFrameBuffer.
  static constexpr size_t kReceiveBuffer = 64 * 1024;

  explicit StreamEndpoint(int fd) : fd_(fd), buffer_(kReceiveBuffer) {}
  ~StreamEndpoint() override { close(fd_); }

  // One send(2) per frame: its length and the frame, prepared once for identical frames.
  int Send(Frame frame, int copies) override {
    if (framed_.size() != kHeaderBytes + frame.size() ||
        std::memcmp(framed_.data() + kHeaderBytes, frame.data(), frame.size()) != 0) {
      const uint32_t length = static_cast<uint32_t>(frame.size());
      framed_ = {uint8_t(length >> 24), uint8_t(length >> 16), uint8_t(length >> 8),
                 uint8_t(length)};
      framed_.insert(framed_.end(), frame.begin(), frame.end());
    }
    for (int i = 0; i < copies; ++i) {
      // A blocking stream send returns short only when a signal cuts it: finish the frame, or
      // the stream loses its framing.
      size_t done = 0;
      while (done < framed_.size()) {
        const ssize_t n = send(fd_, framed_.data() + done, framed_.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return i > 0 ? i : -errno;
        done += static_cast<size_t>(n);
      }
    }
    return copies;
  }

  // Reads what is queued after the partial frame kept from the last read, hands over every whole
  // frame and keeps the rest at the front of the buffer.
  int Receive(const FrameFn& on_frame) override {
    const ssize_t n = recv(fd_, buffer_.data() + filled_, buffer_.size() - filled_, 0);
    if (n < 0) return -errno;
    if (n == 0) return -ECONNRESET;
    filled_ += static_cast<size_t>(n);
    int frames = 0;
    size_t offset = 0;
    while (filled_ - offset >= kHeaderBytes) {
      const uint8_t* header = buffer_.data() + offset;
      const size_t length = size_t{header[0]} << 24 | size_t{header[1]} << 16 |
                            size_t{header[2]} << 8 | size_t{header[3]};
      if (length > kFrameBuffer) return -EPROTO;  // Lost framing, or not an Ethernet frame.
      if (filled_ - offset < kHeaderBytes + length) break;
      on_frame(Frame(header + kHeaderBytes, length));
      offset += kHeaderBytes + length;
      ++frames;
    }
    if (offset > 0) {
      std::memmove(buffer_.data(), buffer_.data() + offset, filled_ - offset);
      filled_ -= offset;
    }
    return frames;
  }

 private:
  const int fd_;
  std::vector<uint8_t> framed_;  // Length and frame of the last frame sent.
  std::vector<uint8_t> buffer_;
  size_t filled_ = 0;  // Bytes received and not yet handed over (a partial frame).
};

// A blocking connection of `type` (SOCK_SEQPACKET or SOCK_STREAM) to the Unix socket `path`.
int ConnectUnix(const std::string& path, int type) {
  const int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (fd < 0) Die("AF_UNIX socket");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) Die("socket path too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) {
    Die("connect " + path);
  }
  return fd;
}

int OpenIpnfsFile(const std::string& path, bool framed) {
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) Die("open " + path);
  const int on = 1;
  if (framed && ioctl(fd, IPNFS_IOC_FRAMED, &on) < 0) Die("IPNFS_IOC_FRAMED on " + path);
  return fd;
}

// Attaches to the existing tap interface `name` (which stays when we close it).
int OpenTap(const std::string& name) {
  const int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) Die("open /dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) Die("TUNSETIFF " + name);
  return fd;
}

// A packet socket bound to interface `name`. A receiver hears the benchmark's EtherType coming in
// (not its own frames going out); a sender (protocol 0) hears nothing.
int OpenPacketSocket(const std::string& name, Role role) {
  const uint16_t protocol = role == Role::kReceiver ? htons(kEtherType) : 0;
  const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0) Die("AF_PACKET socket");
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = protocol;
  address.sll_ifindex = static_cast<int>(if_nametoindex(name.c_str()));
  if (address.sll_ifindex == 0) Die("interface " + name);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) Die("bind " + name);
  const int on = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &on, sizeof(on)) < 0) {
    Die("PACKET_IGNORE_OUTGOING");
  }
  return fd;
}

// A receiver binds `path` (replacing a stale socket file); a sender connects to it.
int OpenUnixSocket(const std::string& path, Role role) {
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Die("AF_UNIX socket");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) Die("socket path too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (role == Role::kReceiver) {
    unlink(path.c_str());
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) Die("bind " + path);
  } else if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) {
    Die("connect " + path);
  }
  return fd;
}

}  // namespace

std::unique_ptr<Endpoint> OpenEndpoint(const std::string& spec, const EndpointOptions& options) {
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) {
    errno = EINVAL;
    Die("endpoint " + spec + " (want KIND:ARG)");
  }
  const std::string kind = spec.substr(0, colon);
  const std::string arg = spec.substr(colon + 1);
  if (kind == "file") return std::make_unique<FdEndpoint>(OpenIpnfsFile(arg, false), kFrameBuffer);
  if (kind == "framed") {
    // Room for a whole sender batch, rounded up to pages (FUSE moves reads in pages).
    const size_t batch_bytes = options.batch * (IPNFS_FRAME_HEADER_BYTES + options.frame_size);
    const size_t page = 4096;
    return std::make_unique<FramedEndpoint>(OpenIpnfsFile(arg, true),
                                            (batch_bytes + page - 1) / page * page);
  }
  if (kind == "tap") return std::make_unique<FdEndpoint>(OpenTap(arg), kFrameBuffer);
  if (kind == "packet") {
    return std::make_unique<FdEndpoint>(OpenPacketSocket(arg, options.role), kFrameBuffer);
  }
  if (kind == "unix") {
    return std::make_unique<FdEndpoint>(OpenUnixSocket(arg, options.role), kFrameBuffer);
  }
  if (kind == "seqpacket") {
    return std::make_unique<SeqpacketEndpoint>(ConnectUnix(arg, SOCK_SEQPACKET));
  }
  if (kind == "stream") return std::make_unique<StreamEndpoint>(ConnectUnix(arg, SOCK_STREAM));
  if (kind == "vde") {
    std::string url = arg;  // vde_open takes a non-const string.
    VDECONN* conn = vde_open(url.data(), const_cast<char*>("ipnfs-bench"), nullptr);
    if (conn == nullptr) Die("vde_open " + arg);
    return std::make_unique<VdeEndpoint>(conn);
  }
  errno = EINVAL;
  Die("unknown endpoint kind " + kind);
}

}  // namespace ipnfs::bench
