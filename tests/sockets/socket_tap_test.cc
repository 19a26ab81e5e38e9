// A socket client and a tap on the same network: a frame the client sends leaves on the tap
// (tcpdump in the tap's network namespace sees it), and a frame the kernel sends on the tap
// reaches the client. Each test runs in a private network namespace (TapTest).
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/frame_builder.h"
#include "tests/sockets/socket_client.h"
#include "tests/sockets/socket_join.h"
#include "tests/tap/frame_capture.h"
#include "tests/tap/ipn_attributes.h"
#include "tests/tap/network_namespace.h"
#include "tests/tap/tap_test.h"
#include "tests/tap/test_frames.h"

namespace ipnfs::tests {
namespace {

class SocketTapTest : public TapTest, public ::testing::WithParamInterface<SocketKind> {
 protected:
  SocketKind kind() const { return GetParam(); }

  // Reads packets from `client` for up to `timeout`; true once `frame` came (the kernel's own
  // frames, IPv6 neighbour discovery and the like, are skipped).
  static bool ReceivesFrame(SocketClient& client, const std::string& frame,
                            absl::Duration timeout = absl::Seconds(5)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      const IoResult got = client.Receive(deadline - absl::Now());
      if (got.error != 0 || got.count == 0) return false;
      if (got.bytes == frame) return true;
    }
    return false;
  }
};

TEST_P(SocketTapTest, SocketAndTapInAnotherNamespaceExchangeFramesBothWays) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0"), Succeeds());
  SocketClient client = SocketClient::Connect(kind(), FacePath(daemon().path(), kind(), "net0"));
  ASSERT_TRUE(client.valid()) << client.error();
  const NetworkNamespace* host = NewNamespace();
  ASSERT_NE(host, nullptr);
  ASSERT_EQ(host->Adopt("ipn0", "10.79.8.1/24"), absl::OkStatus());

  const std::string inbound = TestFrame(0x31).BuildString();
  ASSERT_EQ(SendFrameOn(*host, "ipn0", inbound), absl::OkStatus());
  EXPECT_TRUE(ReceivesFrame(client, inbound))
      << "the frame sent on the tap never reached " << NameOf(kind());

  absl::StatusOr<std::unique_ptr<FrameCapture>> capture =
      FrameCapture::Start(*host, "ipn0", TestFrameFilter(0x32));
  ASSERT_TRUE(capture.ok()) << capture.status();
  ASSERT_THAT(client.Send(TestFrame(0x32).BuildString()), Wrote(60));
  EXPECT_TRUE((*capture)->Captured()) << "the frame the socket sent never left on the tap";
}

TEST_P(SocketTapTest, SocketSeesTheArpOfAPingBetweenTwoTapsOnAHub) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1"), Succeeds());
  SocketClient client = SocketClient::Connect(kind(), FacePath(daemon().path(), kind(), "net0"));
  ASSERT_TRUE(client.valid()) << client.error();
  const NetworkNamespace* a = NewNamespace();
  const NetworkNamespace* b = NewNamespace();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_EQ(a->Adopt("ipn0", "10.79.9.1/24"), absl::OkStatus());
  ASSERT_EQ(b->Adopt("ipn1", "10.79.9.2/24"), absl::OkStatus());
  EXPECT_TRUE(a->Pings("10.79.9.2"));
  // A hub gives the socket every frame: the ARP request and the ICMP among them.
  bool arp = false, ipv4 = false;
  for (IoResult got = client.Receive(absl::Seconds(1)); got.error == 0 && got.count > 0;
       got = client.Receive(absl::Seconds(1))) {
    arp = arp || IsArpBroadcast(got.bytes);
    ipv4 = ipv4 || EtherTypeOf(got.bytes) == FrameBuilder::kIpv4EtherType;
  }
  EXPECT_TRUE(arp) << "the socket saw no ARP request";
  EXPECT_TRUE(ipv4) << "the socket saw no IPv4 frame";
}

INSTANTIATE_TEST_SUITE_P(BothKinds, SocketTapTest,
                         ::testing::Values(SocketKind::kSeqpacket, SocketKind::kStream),
                         [](const ::testing::TestParamInfo<SocketKind>& info) {
                           return std::string(NameOf(info.param));
                         });

}  // namespace
}  // namespace ipnfs::tests
