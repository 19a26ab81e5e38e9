// Unit tests of SocketClient against a listening socket of the test's own (no daemon): framing of
// stream packets both ways, one message per seqpacket packet, the end of a connection, partial
// frames and timeouts.
#include "tests/sockets/socket_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/port_io.h"
#include "tests/temp_dir.h"

namespace ipnfs::tests {
namespace {

// A listening Unix socket of `kind` at a temporary path.
class Listener {
 public:
  explicit Listener(SocketKind kind) : path_(directory_.PathOf("socket")) {
    fd_ = Fd(::socket(
        AF_UNIX, (kind == SocketKind::kSeqpacket ? SOCK_SEQPACKET : SOCK_STREAM) | SOCK_CLOEXEC,
        0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(::listen(fd_.get(), 8), 0);
  }
  const std::string& path() const { return path_; }
  Fd Accept() { return Fd(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC)); }

 private:
  TempDir directory_;
  std::string path_;
  Fd fd_;
};

std::string ReceiveBytes(int fd, size_t count) {
  std::string bytes;
  while (bytes.size() < count) {
    const IoResult got = Receive(fd, absl::Seconds(5), count - bytes.size());
    if (got.error != 0 || got.count == 0) break;
    bytes += got.bytes;
  }
  return bytes;
}

TEST(SocketClientTest, StreamPacketsAreFramedWithABigEndianLengthBothWays) {
  Listener listener(SocketKind::kStream);
  SocketClient client = SocketClient::Connect(SocketKind::kStream, listener.path());
  ASSERT_TRUE(client.valid()) << std::strerror(client.error());
  Fd server = listener.Accept();
  ASSERT_THAT(client.Send("hello"), Wrote(5));
  EXPECT_EQ(ReceiveBytes(server.get(), 9), std::string("\0\0\0\x05hello", 9));
  const std::string big(70000, 'b');
  const std::string frames = StreamFrame("one") + StreamFrame(big) + StreamFrame("two");
  ASSERT_THAT(Send(server.get(), frames), Wrote(frames.size()));
  const IoResult one = client.Receive();
  EXPECT_THAT(one, IsPacket("one"));
  EXPECT_EQ(one.count, 3) << "count is the packet's size";
  EXPECT_THAT(client.Receive(), IsPacket(big));
  EXPECT_THAT(client.Receive(), IsPacket("two"));
  EXPECT_THAT(client.Receive(absl::Milliseconds(50)), FailsWith(ETIMEDOUT));
}

TEST(SocketClientTest, StreamFrameSplitAcrossWritesIsReassembled) {
  Listener listener(SocketKind::kStream);
  SocketClient client = SocketClient::Connect(SocketKind::kStream, listener.path());
  Fd server = listener.Accept();
  ASSERT_THAT(Send(server.get(), std::string("\0\0", 2)), Wrote(2));
  EXPECT_THAT(client.Receive(absl::Milliseconds(50)), FailsWith(ETIMEDOUT));
  ASSERT_THAT(Send(server.get(), std::string("\0\x03"
                                             "ab",
                                             4)),
              Wrote(4));
  EXPECT_THAT(client.Receive(absl::Milliseconds(50)), FailsWith(ETIMEDOUT));
  ASSERT_THAT(Send(server.get(), "c"), Wrote(1));
  EXPECT_THAT(client.Receive(), IsPacket("abc"));
}

TEST(SocketClientTest, EndOfStreamIsClosedAndDropsAPartialFrame) {
  Listener listener(SocketKind::kStream);
  SocketClient client = SocketClient::Connect(SocketKind::kStream, listener.path());
  Fd server = listener.Accept();
  ASSERT_THAT(Send(server.get(), LengthPrefix(10) + "abc"), Wrote(7));
  server.reset();
  EXPECT_THAT(client.Receive(), IsClosed());
}

TEST(SocketClientTest, SeqpacketPacketIsOneMessageWithoutFraming) {
  Listener listener(SocketKind::kSeqpacket);
  SocketClient client = SocketClient::Connect(SocketKind::kSeqpacket, listener.path());
  ASSERT_TRUE(client.valid()) << std::strerror(client.error());
  Fd server = listener.Accept();
  ASSERT_THAT(client.Send("hello"), Wrote(5));
  EXPECT_THAT(Receive(server.get()), IsPacket("hello"));
  ASSERT_THAT(Send(server.get(), "one"), Wrote(3));
  ASSERT_THAT(Send(server.get(), std::string(kMtu, 'm')), Wrote(kMtu));
  const IoResult one = client.Receive();
  EXPECT_THAT(one, IsPacket("one"));
  EXPECT_EQ(one.count, 3) << "count is the packet's size";
  EXPECT_THAT(client.Receive(), IsPacket(std::string(kMtu, 'm')));
  server.reset();
  EXPECT_THAT(client.Receive(), IsClosed());
}

TEST(SocketClientTest, ConnectToAMissingSocketFailsWithEnoent) {
  TempDir directory;
  SocketClient client = SocketClient::ConnectWithin(SocketKind::kStream, directory.PathOf("none"),
                                                    absl::Milliseconds(50));
  EXPECT_FALSE(client.valid());
  EXPECT_EQ(client.error(), ENOENT);
}

}  // namespace
}  // namespace ipnfs::tests
