// SocketLoop: clients of the seqpacket and stream faces exchange packets with each other and with
// ordinary ports, in order, with the network's limits and flow control applied; refused, broken
// and removed connections are closed, and their ports leave. The listeners are made by the test
// (no FUSE): Unix sockets bound in a temporary directory, on a real EventLoop and real networks.
#include "sock/socket_loop.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/errno_status.h"
#include "core/network.h"
#include "core/test_network.h"
#include "gtest/gtest.h"
#include "tests/wait_until.h"

namespace ipnfs {
namespace {

using Bytes = std::vector<uint8_t>;
using test_network::Config;
using test_network::NewHub;
using tests::WaitUntil;

constexpr ino_t kIno = 11;
constexpr ino_t kOtherIno = 12;
constexpr absl::Duration kTimeout = absl::Seconds(10);

// A packet of `size` bytes starting with `sequence` (big-endian), then a pattern from it.
Bytes TestPacket(uint32_t sequence, size_t size = 64) {
  Bytes packet(std::max<size_t>(size, 4));
  packet[0] = static_cast<uint8_t>(sequence >> 24);
  packet[1] = static_cast<uint8_t>(sequence >> 16);
  packet[2] = static_cast<uint8_t>(sequence >> 8);
  packet[3] = static_cast<uint8_t>(sequence);
  for (size_t i = 4; i < packet.size(); ++i) packet[i] = static_cast<uint8_t>(sequence * 31 + i);
  return packet;
}

uint32_t SequenceOf(const Bytes& packet) {
  return uint32_t{packet[0]} << 24 | uint32_t{packet[1]} << 16 | uint32_t{packet[2]} << 8 |
         packet[3];
}

Bytes Framed(const Bytes& payload, std::optional<uint32_t> length = std::nullopt) {
  const uint32_t prefix = length.value_or(static_cast<uint32_t>(payload.size()));
  Bytes framed = {static_cast<uint8_t>(prefix >> 24), static_cast<uint8_t>(prefix >> 16),
                  static_cast<uint8_t>(prefix >> 8), static_cast<uint8_t>(prefix)};
  framed.insert(framed.end(), payload.begin(), payload.end());
  return framed;
}

Bytes Concat(const std::vector<Bytes>& parts) {
  Bytes all;
  for (const Bytes& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

// Waits until `fd` has one of `events`; false on timeout.
bool WaitFor(int fd, short events, absl::Duration timeout) {
  pollfd entry = {.fd = fd, .events = events, .revents = 0};
  return poll(&entry, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) == 1;
}

// Writes all of `bytes` to a stream socket.
bool WriteAll(int fd, const Bytes& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads exactly `size` bytes from a stream socket; false on end of file, error or timeout.
bool ReadExactly(int fd, uint8_t* out, size_t size, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  size_t done = 0;
  while (done < size) {
    if (!WaitFor(fd, POLLIN, deadline - absl::Now())) return false;
    const ssize_t n = recv(fd, out + done, size - done, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// One client of a face.
class Client {
 public:
  Client(FaceKind kind, const std::string& path) : kind_(kind) {
    fd_ = socket(AF_UNIX,
                 (kind == FaceKind::kSeqpacket ? SOCK_SEQPACKET : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0)
        << path << ": " << std::strerror(errno);
  }
  ~Client() { close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int fd() const { return fd_; }

  // Sends one packet: a message, or a frame after its length.
  bool Send(const Bytes& packet) {
    if (kind_ == FaceKind::kStream) return WriteAll(fd_, Framed(packet));
    return send(fd_, packet.data(), packet.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(packet.size());
  }

  // The next packet, or nothing on end of file, error or timeout.
  std::optional<Bytes> Receive(absl::Duration timeout = kTimeout) {
    if (kind_ == FaceKind::kSeqpacket) {
      if (!WaitFor(fd_, POLLIN, timeout)) return std::nullopt;
      Bytes message(128 * 1024);
      const ssize_t n = recv(fd_, message.data(), message.size(), 0);
      if (n <= 0) return std::nullopt;
      message.resize(static_cast<size_t>(n));
      return message;
    }
    uint8_t header[4];
    if (!ReadExactly(fd_, header, sizeof(header), timeout)) return std::nullopt;
    Bytes frame(uint32_t{header[0]} << 24 | uint32_t{header[1]} << 16 | uint32_t{header[2]} << 8 |
                header[3]);
    if (!ReadExactly(fd_, frame.data(), frame.size(), timeout)) return std::nullopt;
    return frame;
  }

  // True when the daemon closed the connection (end of file) within `timeout`.
  bool SeesEof(absl::Duration timeout = kTimeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (WaitFor(fd_, POLLIN, deadline - absl::Now())) {
      uint8_t byte[128 * 1024];
      const ssize_t n = recv(fd_, byte, sizeof(byte), MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
      if (n < 0 && errno != EAGAIN) return false;
    }
    return false;
  }

 private:
  const FaceKind kind_;
  int fd_ = -1;
};

// The next packet queued on `port`, waiting for it up to `timeout`.
std::optional<Bytes> TakeOne(Port& port, absl::Duration timeout = kTimeout) {
  std::vector<PacketRef> taken;
  if (!WaitUntil([&] { return port.TakeQueued(1, taken, absl::Now()) > 0; }, timeout)) {
    return std::nullopt;
  }
  return Bytes(taken[0]->bytes().begin(), taken[0]->bytes().end());
}

class SocketLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ipnfs_sock_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }

  void TearDown() override {
    Stop();
    for (const std::string& path : paths_) unlink(path.c_str());
    rmdir(dir_.c_str());
  }

  // Starts the loop with networks kIno and kOtherIno (hubs with `config`), listening on both
  // faces of each.
  void Start(NetworkConfig config = NetworkConfig{}, SocketLoopOptions options = {}) {
    networks_[kIno] = NewHub(config);
    networks_[kOtherIno] = NewHub(config);
    absl::StatusOr<std::unique_ptr<EventLoop>> loop =
        EventLoop::Start(EventLoopOptions(), [](EventLoop&) { return absl::OkStatus(); });
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = *std::move(loop);
    absl::StatusOr<std::unique_ptr<SocketLoop>> sockets = SocketLoop::Create(
        *loop_, options,
        [this](ino_t ino, FaceKind kind, const Peer& peer) { return Admit(ino, kind, peer); },
        [this](ino_t ino, const std::string& event) {
          absl::MutexLock lock(&mu_);
          left_.emplace_back(ino, event);
        });
    ASSERT_TRUE(sockets.ok()) << sockets.status();
    sockets_ = *std::move(sockets);
    for (ino_t ino : {kIno, kOtherIno}) {
      for (FaceKind kind : kFaceKinds) Listen(ino, kind);
    }
  }

  void Stop() {
    if (loop_ != nullptr) loop_->Stop();
    sockets_.reset();
    loop_.reset();
  }

  std::string PathOf(ino_t ino, FaceKind kind) const {
    return absl::StrCat(dir_, "/", ino, kind == FaceKind::kSeqpacket ? ".seqpacket" : ".stream");
  }

  void Listen(ino_t ino, FaceKind kind) {
    const std::string path = PathOf(ino, kind);
    int fd = socket(
        AF_UNIX, (kind == FaceKind::kSeqpacket ? SOCK_SEQPACKET : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(listen(fd, 128), 0);
    paths_.push_back(path);
    sockets_->AddListener(ino, kind, ScopedFd(fd));
  }

  Network& network(ino_t ino = kIno) { return *networks_.at(ino); }

  // A client of face `kind` of network `ino`, once its port joined (or, when admissions are
  // refused, once it was refused).
  std::unique_ptr<Client> Connect(FaceKind kind, ino_t ino = kIno) {
    const size_t before = admissions();
    auto client = std::make_unique<Client>(kind, PathOf(ino, kind));
    EXPECT_TRUE(WaitUntil([&] { return admissions() > before; }, kTimeout));
    return client;
  }

  std::unique_ptr<Port> JoinPlain(ino_t ino = kIno) {
    absl::StatusOr<std::unique_ptr<Port>> port =
        network(ino).Join(PortMode::kSendReceive, PortOwner{.command = "plain"}, absl::Now());
    EXPECT_TRUE(port.ok()) << port.status();
    return port.ok() ? *std::move(port) : nullptr;
  }

  size_t admissions() {
    absl::MutexLock lock(&mu_);
    return peers_.size();
  }
  std::vector<std::pair<ino_t, std::string>> left() {
    absl::MutexLock lock(&mu_);
    return left_;
  }

  absl::StatusOr<Admission> Admit(ino_t ino, FaceKind, const Peer& peer) {
    absl::MutexLock lock(&mu_);
    peers_.push_back(peer);
    if (refuse_) return ErrnoError(EACCES, "refused by the test");
    absl::StatusOr<std::unique_ptr<Port>> port = networks_.at(ino)->Join(
        mode_, PortOwner{.pid = peer.pid, .uid = peer.uid, .command = "sock test"}, absl::Now());
    if (!port.ok()) return port.status();
    return Admission{.port = *std::move(port), .leave_event = absl::StrCat("left ", peers_.size())};
  }

  std::string dir_;
  std::vector<std::string> paths_;
  std::map<ino_t, std::shared_ptr<Network>> networks_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<SocketLoop> sockets_;

  absl::Mutex mu_;
  std::vector<Peer> peers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<ino_t, std::string>> left_ ABSL_GUARDED_BY(mu_);
  bool refuse_ ABSL_GUARDED_BY(mu_) = false;
  PortMode mode_ ABSL_GUARDED_BY(mu_) = PortMode::kSendReceive;
};

TEST_F(SocketLoopTest, AdmitSeesThePeersCredentials) {
  Start();
  auto client = Connect(FaceKind::kSeqpacket);
  absl::MutexLock lock(&mu_);
  ASSERT_EQ(peers_.size(), 1u);
  EXPECT_EQ(peers_[0].pid, getpid());
  EXPECT_EQ(peers_[0].uid, getuid());
  EXPECT_EQ(peers_[0].gid, getgid());
  std::vector<gid_t> groups(getgroups(0, nullptr));
  groups.resize(getgroups(static_cast<int>(groups.size()), groups.data()));
  std::vector<gid_t> seen = peers_[0].groups;
  std::sort(groups.begin(), groups.end());
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, groups);
}

TEST_F(SocketLoopTest, SeqpacketStreamAndPlainPortsExchangeEveryWay) {
  Start();
  auto seqpacket = Connect(FaceKind::kSeqpacket);
  auto stream = Connect(FaceKind::kStream);
  std::unique_ptr<Port> plain = JoinPlain();

  ASSERT_TRUE(seqpacket->Send(TestPacket(1)));
  EXPECT_EQ(stream->Receive(), TestPacket(1));
  EXPECT_EQ(TakeOne(*plain), TestPacket(1));

  ASSERT_TRUE(stream->Send(TestPacket(2, 1500)));
  EXPECT_EQ(seqpacket->Receive(), TestPacket(2, 1500));
  EXPECT_EQ(TakeOne(*plain), TestPacket(2, 1500));

  ASSERT_TRUE(plain->Send(TestPacket(3, 9000), absl::Now()).ok());
  EXPECT_EQ(seqpacket->Receive(), TestPacket(3, 9000));
  EXPECT_EQ(stream->Receive(), TestPacket(3, 9000));
  EXPECT_EQ(network().stats().packets_sent, 3u);
}

TEST_F(SocketLoopTest, FansOutOneSenderToThreeReceiversInOrder) {
  Start();
  auto sender = Connect(FaceKind::kSeqpacket);
  std::vector<std::unique_ptr<Client>> receivers;
  receivers.push_back(Connect(FaceKind::kSeqpacket));
  receivers.push_back(Connect(FaceKind::kStream));
  receivers.push_back(Connect(FaceKind::kSeqpacket));
  constexpr uint32_t kPackets = 100;
  for (uint32_t i = 0; i < kPackets; ++i) ASSERT_TRUE(sender->Send(TestPacket(i)));
  for (auto& receiver : receivers) {
    for (uint32_t i = 0; i < kPackets; ++i) ASSERT_EQ(receiver->Receive(), TestPacket(i)) << i;
  }
  EXPECT_EQ(network().stats().drops_queue_full, 0u);
}

// Several receives are armed on every seqpacket connection: the messages still enter the network
// in the order they were sent; and they leave to a seqpacket and a stream reader in order.
TEST_F(SocketLoopTest, KeepsTheOrderOfTenThousandPacketsFromOneSender) {
  constexpr uint32_t kPackets = 10000;
  Start(Config(Flow::kDrop, /*qlen=*/kPackets));
  auto sender = Connect(FaceKind::kSeqpacket);
  auto seqpacket = Connect(FaceKind::kSeqpacket);
  auto stream = Connect(FaceKind::kStream);
  std::unique_ptr<Port> plain = JoinPlain();
  std::thread sending([&] {
    for (uint32_t i = 0; i < kPackets; ++i) ASSERT_TRUE(sender->Send(TestPacket(i)));
  });
  std::vector<uint32_t> seqpacket_got, stream_got;
  std::thread reading([&] {
    for (uint32_t i = 0; i < kPackets; ++i) {
      std::optional<Bytes> packet = stream->Receive();
      if (!packet) return;
      stream_got.push_back(SequenceOf(*packet));
    }
  });
  for (uint32_t i = 0; i < kPackets; ++i) {
    std::optional<Bytes> packet = seqpacket->Receive();
    if (!packet) break;
    seqpacket_got.push_back(SequenceOf(*packet));
  }
  sending.join();
  reading.join();
  std::vector<uint32_t> expected(kPackets);
  for (uint32_t i = 0; i < kPackets; ++i) expected[i] = i;
  EXPECT_EQ(seqpacket_got, expected);
  EXPECT_EQ(stream_got, expected);
  std::vector<PacketRef> queued;
  plain->TakeQueued(kPackets, queued, absl::Now());
  std::vector<uint32_t> plain_got;
  for (const PacketRef& packet : queued)
    plain_got.push_back(SequenceOf(Bytes(packet->bytes().begin(), packet->bytes().end())));
  EXPECT_EQ(plain_got, expected);
}

TEST_F(SocketLoopTest, ClosesOnlyAStreamThatSendsALengthOfZero) {
  Start(Config(Flow::kDrop, 256, /*mtu=*/1500));
  auto bad = Connect(FaceKind::kStream);
  auto good = Connect(FaceKind::kStream);
  auto reader = Connect(FaceKind::kSeqpacket);
  ASSERT_TRUE(WriteAll(bad->fd(), Concat({Framed(TestPacket(1)), Framed({}, 0)})));
  EXPECT_EQ(reader->Receive(), TestPacket(1));  // What came before the bad length went through.
  EXPECT_TRUE(bad->SeesEof());
  EXPECT_TRUE(WaitUntil([&] { return left().size() == 1; }));
  EXPECT_EQ(network().stats().bad_frames, 1u);
  ASSERT_TRUE(good->Send(TestPacket(2)));
  EXPECT_EQ(reader->Receive(), TestPacket(2));
  EXPECT_EQ(network().stats().ports, 2u);
}

}  // namespace
}  // namespace ipnfs
