// Taps with offloads (virtio-net headers, TSO): TCP between two namespaces through the daemon
// moves large GSO packets and arrives intact; a plain process reading the same network gets only
// ordinary frames, within the MTU, with valid IP and TCP checksums.
#include <fcntl.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/frame_builder.h"
#include "tests/background_process.h"
#include "tests/port_io.h"
#include "tests/subprocess.h"
#include "tests/tap/ipn_attributes.h"
#include "tests/tap/network_namespace.h"
#include "tests/tap/tap_test.h"
#include "tests/tap/test_frames.h"

namespace ipnfs::tests {
namespace {

constexpr int kTransferBytes = 1 << 20;

// Listens on ADDRESS:5555, takes one connection and prints "intact N" when the N bytes received
// are the pattern the client sends, else "corrupt N".
constexpr char kServer[] = R"(
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5555))
s.listen(1)
s.settimeout(20)
c, _ = s.accept()
c.settimeout(20)
got = bytearray()
while True:
    chunk = c.recv(1 << 16)
    if not chunk:
        break
    got += chunk
want = bytes(i % 251 for i in range(int(sys.argv[2])))
print("intact" if got == want else "corrupt", len(got), flush=True)
)";

// Connects to ADDRESS:5555 (retrying for 10 s while the server starts) and sends N pattern bytes.
constexpr char kClient[] = R"(
import socket, sys, time
data = bytes(i % 251 for i in range(int(sys.argv[2])))
deadline = time.time() + 10
while True:
    try:
        c = socket.create_connection((sys.argv[1], 5555), timeout=20)
        break
    except OSError:
        if time.time() > deadline:
            raise
        time.sleep(0.05)
c.sendall(data)
c.close()
)";

// Sends kTransferBytes over TCP from `from` to `to_address` in `to`; what the server printed.
std::string Transfer(const NetworkNamespace& from, const NetworkNamespace& to,
                     const std::string& to_address) {
  const std::string bytes = std::to_string(kTransferBytes);
  BackgroundProcess server(to.Inside({"/usr/bin/python3", "-c", kServer, to_address, bytes}), "");
  const CommandResult client =
      from.Exec({"/usr/bin/python3", "-c", kClient, to_address, bytes}, absl::Seconds(30));
  const std::optional<int> server_exit = server.WaitForExit(absl::Seconds(30));
  if (client.exit_code != 0) return absl::StrCat("client failed: ", client.err);
  if (!server_exit.has_value()) return "server did not exit";
  return server.Stdout() + server.Stderr();
}

// Two namespaces a (10.79.9.1) and b (10.79.9.2) joined by taps ipn0 and ipn1 of `net`.
struct Pair {
  const NetworkNamespace* a = nullptr;
  const NetworkNamespace* b = nullptr;
};

// The ones' complement sum of `bytes` folded to 16 bits, plus `sum`.
uint32_t Sum(absl::string_view bytes, uint32_t sum = 0) {
  for (size_t i = 0; i < bytes.size(); i += 2) {
    sum += static_cast<uint32_t>(static_cast<uint8_t>(bytes[i]) << 8);
    if (i + 1 < bytes.size()) sum += static_cast<uint8_t>(bytes[i + 1]);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

// For an IPv4 TCP frame: an empty string when its IP header and TCP checksums verify, else why
// not. Other frames: empty.
std::string ChecksumProblem(absl::string_view f) {
  if (f.size() < 14 + 20 || At16(f, 12) != FrameBuilder::kIpv4EtherType || f[14 + 9] != 6)
    return "";
  const size_t ihl = (static_cast<uint8_t>(f[14]) & 0x0f) * size_t{4};
  const size_t total = At16(f, 14 + 2);
  if (14 + total > f.size()) return "IPv4 length beyond the frame";
  if (Sum(f.substr(14, ihl)) != 0xffff) return "bad IPv4 header checksum";
  const absl::string_view tcp = f.substr(14 + ihl, total - ihl);
  const uint32_t pseudo = Sum(f.substr(14 + 12, 8), 6 + static_cast<uint32_t>(tcp.size()));
  if (Sum(tcp, pseudo) != 0xffff) return "bad TCP checksum";
  return "";
}

// The bytes that the IPv4 TCP frames to port 5555 among `frames` carry, put together by sequence
// number from the SYN on (retransmissions counted once); empty without a SYN.
std::string StreamTo5555(const std::vector<std::string>& frames) {
  std::map<uint32_t, std::string> segments;  // By offset from the first data byte.
  std::optional<uint32_t> first;
  for (absl::string_view f : frames) {
    if (f.size() < 14 + 20 || At16(f, 12) != FrameBuilder::kIpv4EtherType || f[14 + 9] != 6)
      continue;
    const size_t ihl = (static_cast<uint8_t>(f[14]) & 0x0f) * size_t{4};
    const size_t tcp = 14 + ihl;
    if (At16(f, tcp + 2) != 5555) continue;
    const uint32_t sequence = At32(f, tcp + 4);
    if ((f[tcp + 13] & 0x02) != 0) first = sequence + 1;  // SYN.
    const size_t payload = tcp + (static_cast<uint8_t>(f[tcp + 12]) >> 4) * size_t{4};
    const size_t end = 14 + At16(f, 14 + 2);
    if (payload < end) segments[sequence] = std::string(f.substr(payload, end - payload));
  }
  std::string stream;
  if (!first.has_value()) return stream;
  for (auto it = segments.find(*first); it != segments.end();
       it = segments.find(static_cast<uint32_t>(*first + stream.size()))) {
    stream += it->second;
  }
  return stream;
}

class OffloadTest : public TapTest {
 protected:
  // Attaches taps ipn0 and ipn1 to `net` and moves them into two new namespaces.
  Pair Connect(const std::string& net) {
    Pair pair;
    EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1"), Succeeds());
    pair.a = NewNamespace();
    pair.b = NewNamespace();
    if (pair.a == nullptr || pair.b == nullptr) return {};
    EXPECT_EQ(pair.a->Adopt("ipn0", "10.79.9.1/24"), absl::OkStatus());
    EXPECT_EQ(pair.b->Adopt("ipn1", "10.79.9.2/24"), absl::OkStatus());
    return pair;
  }

  // packets_sent and bytes_sent of `net`.
  static std::pair<uint64_t, uint64_t> Sent(const std::string& net) {
    uint64_t packets = 0, bytes = 0;
    absl::StatusOr<std::string> stats = GetAttribute(net, "user.ipn.stats");
    EXPECT_TRUE(stats.ok()) << stats.status();
    for (absl::string_view line : absl::StrSplit(stats.value_or(""), '\n')) {
      std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
      if (f.size() != 2) continue;
      if (f[0] == "packets_sent") {
        EXPECT_TRUE(absl::SimpleAtoi(f[1], &packets));
      } else if (f[0] == "bytes_sent") {
        EXPECT_TRUE(absl::SimpleAtoi(f[1], &bytes));
      }
    }
    return {packets, bytes};
  }
};

TEST_F(OffloadTest, TcpBetweenTapsArrivesIntactInPacketsLargerThanAFrame) {
  const std::string net = NewNetwork("net0");
  const Pair pair = Connect(net);
  ASSERT_TRUE(pair.a != nullptr && pair.b != nullptr);

  EXPECT_EQ(Transfer(*pair.a, *pair.b, "10.79.9.2"), absl::StrCat("intact ", kTransferBytes, "\n"));

  // TSO: the kernel handed the daemon TCP packets of many segments, which crossed whole.
  const auto [packets, bytes] = Sent(net);
  ASSERT_GT(packets, 0u);
  EXPECT_GT(bytes / packets, 3000u) << packets << " packets, " << bytes << " bytes";
}

TEST_F(OffloadTest, PlainReaderGetsOnlyChecksummedFramesWithinTheMtu) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.mtu", "1514"), Succeeds());
  ASSERT_THAT(SetAttribute(net, "user.ipn.qlen", "8192"), Succeeds());
  const Fd reader = Open(net, O_RDONLY);
  ASSERT_TRUE(reader.valid());
  const Pair pair = Connect(net);
  ASSERT_TRUE(pair.a != nullptr && pair.b != nullptr);

  EXPECT_EQ(Transfer(*pair.a, *pair.b, "10.79.9.2"), absl::StrCat("intact ", kTransferBytes, "\n"));

  const std::vector<std::string> frames = DrainFrames(reader.get());
  size_t full_segments = 0;
  for (const std::string& frame : frames) {
    ASSERT_LE(frame.size(), 1514u);
    ASSERT_EQ(ChecksumProblem(frame), "") << "frame of " << frame.size() << " bytes";
    if (frame.size() == 1514) ++full_segments;
  }
  // The whole megabyte passed the reader too, as full-sized segments.
  EXPECT_GT(full_segments, 500u) << Describe(frames);
  std::string pattern;
  for (int i = 0; i < kTransferBytes; ++i) pattern.push_back(static_cast<char>(i % 251));
  EXPECT_TRUE(StreamTo5555(frames) == pattern) << "the reader's segments do not add up to the data";
  const auto [packets, bytes] = Sent(net);
  EXPECT_GT(bytes / packets, 3000u) << "the taps did not send GSO packets";
}

}  // namespace
}  // namespace ipnfs::tests
