// Tests of the tap backend (//tap:tap_backend) in this process against the real kernel, as a
// user would see it: taps and grabbed veths in network namespaces, ping and tcpdump inside them,
// plain ports of a network of this process.
//
// Needs root (CAP_NET_ADMIN), /dev/net/tun, io_uring, and ip, nsenter, unshare, ping, tcpdump,
// python3. Each test first moves into a fresh private network namespace (before the backend
// starts its threads), so nothing it creates is ever seen by the host, and every "host"
// namespace is held by a child process that dies with the test: interfaces and namespaces go away
// even when a test fails or crashes.
#include "tap/tap_backend.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/errno_status.h"
#include "core/network.h"
#include "core/port.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/frame_builder.h"
#include "policies/hub_policy.h"
#include "tap/link_control.h"
#include "tap/tap_device.h"
#include "tests/subprocess.h"
#include "tests/tap/frame_capture.h"
#include "tests/tap/ipn_attributes.h"
#include "tests/tap/network_namespace.h"
#include "tests/tap/test_frames.h"
#include "tests/wait_until.h"

namespace ipnfs::tests {
namespace {

const NetworkNamespace& Here() { return NetworkNamespace::Here(); }

// Sends what IPN_LOG writes (stderr) to a file for as long as it lives.
class StderrCapture {
 public:
  StderrCapture() {
    char path[] = "/tmp/ipnfs-tap-test-XXXXXX";
    file_ = mkstemp(path);
    unlink(path);
    saved_ = dup(STDERR_FILENO);
    dup2(file_, STDERR_FILENO);
  }
  ~StderrCapture() { Restore(); }

  // What was written so far.
  std::string Text() const {
    std::string text;
    char buffer[4096];
    ssize_t n;
    for (off_t offset = 0; (n = pread(file_, buffer, sizeof(buffer), offset)) > 0; offset += n) {
      text.append(buffer, static_cast<size_t>(n));
    }
    return text;
  }

 private:
  void Restore() {
    if (saved_ < 0) return;
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    close(file_);
    saved_ = -1;
  }

  int file_ = -1;
  int saved_ = -1;
};

std::shared_ptr<Network> NewHub() {
  return Network::Create(std::make_unique<HubPolicy>(), NetworkConfig{});
}

std::unique_ptr<Port> JoinPlainPort(Network& network) {
  absl::StatusOr<std::unique_ptr<Port>> port = network.Join(
      PortMode::kSendReceive, PortOwner{.pid = getpid(), .command = "test"}, absl::Now());
  EXPECT_TRUE(port.ok()) << port.status();
  return port.ok() ? *std::move(port) : nullptr;
}

// tcpdump on `interface` of `ns`, listening for TestFrame(marker); nullptr, and a failure, when
// it does not listen.
std::unique_ptr<FrameCapture> CaptureTestFrame(const NetworkNamespace& ns,
                                               const std::string& interface, uint8_t marker) {
  absl::StatusOr<std::unique_ptr<FrameCapture>> capture =
      FrameCapture::Start(ns, interface, TestFrameFilter(marker));
  EXPECT_TRUE(capture.ok()) << capture.status();
  return capture.ok() ? *std::move(capture) : nullptr;
}

// A non-blocking reader that copies the frame it gets.
class CopyReader final : public ReadWaiter {
 public:
  explicit CopyReader(std::optional<std::string>& frame) : ReadWaiter(1, 1 << 16), frame_(frame) {}
  bool Abandoned() const override { return false; }
  void Complete(const Packet& packet) override {
    frame_.emplace(packet.bytes().begin(), packet.bytes().end());
  }
  void Fail(int) override {}

 private:
  std::optional<std::string>& frame_;
};

// The first frame `port` receives within `timeout` that `wanted` accepts.
std::optional<std::string> ReceiveFrame(Port& port,
                                        const std::function<bool(absl::string_view)>& wanted,
                                        absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::optional<std::string> frame;
    port.Receive(std::make_unique<CopyReader>(frame), Waiting::kNever, absl::Now());
    if (!frame) {
      absl::SleepFor(absl::Milliseconds(10));
    } else if (wanted(*frame)) {
      return frame;
    }
  }
  return std::nullopt;
}

// Accepts the ARP frames from `mac`.
std::function<bool(absl::string_view)> ArpFrom(const std::string& mac) {
  return [mac](absl::string_view frame) {
    return EtherTypeOf(frame) == FrameBuilder::kArpEtherType && SourceMacOf(frame) == mac;
  };
}

using Names = std::vector<std::string>;

class TapBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const absl::Status entered = EnterNewNetworkNamespace();
    ASSERT_TRUE(entered.ok()) << entered;
    for (std::unique_ptr<NetworkNamespace>* host : {&a_, &b_}) {
      absl::StatusOr<std::unique_ptr<NetworkNamespace>> made = NetworkNamespace::Create();
      ASSERT_TRUE(made.ok()) << made.status();
      *host = *std::move(made);
    }
    absl::StatusOr<std::unique_ptr<TapBackend>> backend = TapBackend::Create();
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = *std::move(backend);
  }

  // Deletes the taps it created; the test's namespace goes away with everything else in it.
  void TearDown() override { backend_.reset(); }

  // Creates, in the test's namespace, a veth pair and sets `name` up.
  static ::testing::AssertionResult MakeVeth(const std::string& name, const std::string& peer) {
    const CommandResult made = Here().Shell(absl::StrCat(
        "ip link add ", name, " type veth peer name ", peer, " && ip link set ", name, " up"));
    if (made.exit_code == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "cannot create veth " << name << ": " << made;
  }

  absl::Status Attach(InterfaceKind kind, const std::string& name) {
    return backend_->Attach(kind, name, network_);
  }

  std::unique_ptr<NetworkNamespace> a_;
  std::unique_ptr<NetworkNamespace> b_;
  std::shared_ptr<Network> network_ = NewHub();
  std::unique_ptr<TapBackend> backend_;
};

TEST_F(TapBackendTest, TapsInTwoNamespacesPingEachOther) {
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn1").ok());
  EXPECT_EQ(backend_->Attached(InterfaceKind::kTap, *network_), (Names{"ipn0", "ipn1"}));
  // Moving a tap to another namespace keeps it attached: its descriptor stays valid.
  ASSERT_EQ(a_->Adopt("ipn0", "10.77.0.1/24"), absl::OkStatus());
  ASSERT_EQ(b_->Adopt("ipn1", "10.77.0.2/24"), absl::OkStatus());

  EXPECT_TRUE(a_->Pings("10.77.0.2"));
  EXPECT_TRUE(b_->Pings("10.77.0.1"));

  EXPECT_EQ(backend_->Attached(InterfaceKind::kTap, *network_), (Names{"ipn0", "ipn1"}));
  absl::StatusOr<InterfaceCounters> counters = backend_->Counters("ipn0");
  ASSERT_TRUE(counters.ok()) << counters.status();
  EXPECT_GE(counters->frames_in, 3u);
  EXPECT_GE(counters->frames_out, 3u);
}

TEST_F(TapBackendTest, PortsShowTheInterfaceAsOwner) {
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_TRUE(Attach(InterfaceKind::kGrab, "ipnv0").ok());
  std::vector<std::string> owners;
  for (const PortInfo& port : network_->ports()) owners.push_back(port.owner.command);
  std::sort(owners.begin(), owners.end());
  EXPECT_EQ(owners, (Names{"grab:ipnv0", "tap:ipn0"}));
}

TEST_F(TapBackendTest, FrameSentIntoTheNetworkComesOutOfTheTap) {
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_EQ(a_->Adopt("ipn0", "10.77.1.1/24"), absl::OkStatus());
  std::unique_ptr<Port> plain = JoinPlainPort(*network_);
  ASSERT_NE(plain, nullptr);

  std::unique_ptr<FrameCapture> capture = CaptureTestFrame(*a_, "ipn0", 1);
  ASSERT_NE(capture, nullptr);
  ASSERT_TRUE(plain->Send(TestFrame(1).Build(), absl::Now()).ok());
  EXPECT_TRUE(capture->Captured(absl::Seconds(10)));
  EXPECT_GE(backend_->Counters("ipn0")->frames_out, 1u);
}

TEST_F(TapBackendTest, FrameSentOnTheTapIsReadFromAPlainPort) {
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_EQ(a_->Adopt("ipn0", "10.77.1.1/24"), absl::OkStatus());
  std::unique_ptr<Port> plain = JoinPlainPort(*network_);
  ASSERT_NE(plain, nullptr);
  const std::string mac = a_->MacAddressOf("ipn0");
  ASSERT_FALSE(mac.empty());

  // Nobody answers 10.77.1.9: the kernel broadcasts ARP requests for it on ipn0.
  a_->Shell("ping -c 1 -W 1 10.77.1.9 >/dev/null");
  std::optional<std::string> arp = ReceiveFrame(*plain, ArpFrom(mac), absl::Seconds(3));
  EXPECT_TRUE(arp.has_value()) << "no ARP request from " << mac << " reached the plain port";
}

TEST_F(TapBackendTest, GrabbedVethReachesATapOfTheSameNetwork) {
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_TRUE(Attach(InterfaceKind::kGrab, "ipnv0").ok());
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_EQ(a_->Adopt("ipnv1", "10.77.2.1/24"), absl::OkStatus());
  ASSERT_EQ(b_->Adopt("ipn0", "10.77.2.2/24"), absl::OkStatus());

  EXPECT_TRUE(a_->Pings("10.77.2.2"));
  EXPECT_TRUE(b_->Pings("10.77.2.1"));
  EXPECT_EQ(backend_->Attached(InterfaceKind::kGrab, *network_), (Names{"ipnv0"}));
  EXPECT_EQ(backend_->Attached(InterfaceKind::kTap, *network_), (Names{"ipn0"}));
}

TEST_F(TapBackendTest, TcpThroughAGrabbedVethHasValidChecksums) {
  // veth leaves TCP checksums to "hardware": the grab must complete them, or B drops every
  // segment. 200 kB each way: from A they come as TSO super-frames, which pass whole.
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_TRUE(Attach(InterfaceKind::kGrab, "ipnv0").ok());
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_EQ(a_->Adopt("ipnv1", "10.77.3.1/24"), absl::OkStatus());
  ASSERT_EQ(b_->Adopt("ipn0", "10.77.3.2/24"), absl::OkStatus());

  constexpr char kServer[] = R"(
import socket
s = socket.create_server(("10.77.3.2", 7000))
c, _ = s.accept()
d = b""
while len(d) < 200000: d += c.recv(65536)
c.sendall(d[::-1]); c.close()
)";
  constexpr char kClient[] = R"(
import socket
c = socket.create_connection(("10.77.3.2", 7000))
c.sendall(bytes(range(250)) * 800)
d = b""
while len(d) < 200000:
  x = c.recv(65536)
  if not x: break
  d += x
print(len(d), d == (bytes(range(250)) * 800)[::-1])
)";
  std::thread serving([&] {
    b_->Exec({"/usr/bin/timeout", "20", "/usr/bin/python3", "-c", kServer});
  });
  absl::SleepFor(absl::Milliseconds(500));
  const CommandResult reply =
      a_->Exec({"/usr/bin/timeout", "15", "/usr/bin/python3", "-c", kClient});
  serving.join();
  EXPECT_EQ(reply.out, "200000 True\n") << reply;
}

TEST_F(TapBackendTest, GrabbedInterfaceNeverReadsBackWhatItTransmits) {
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_TRUE(Attach(InterfaceKind::kGrab, "ipnv0").ok());
  ASSERT_EQ(a_->Adopt("ipnv1", "10.77.4.1/24"), absl::OkStatus());
  std::unique_ptr<Port> plain = JoinPlainPort(*network_);
  ASSERT_NE(plain, nullptr);

  std::unique_ptr<FrameCapture> capture = CaptureTestFrame(*a_, "ipnv1", 2);
  ASSERT_NE(capture, nullptr);
  const std::vector<uint8_t> sent = TestFrame(2).Build();
  ASSERT_TRUE(plain->Send(sent, absl::Now()).ok());
  EXPECT_TRUE(capture->Captured(
      absl::Seconds(10)));  // It went out on ipnv0, so it reached the other end...
  // ...and did not come back in: the hub would have delivered it to the plain port.
  EXPECT_FALSE(
      ReceiveFrame(
          *plain,
          [&](absl::string_view frame) { return frame == std::string(sent.begin(), sent.end()); },
          absl::Milliseconds(500))
          .has_value());
  EXPECT_EQ(backend_->Counters("ipnv0")->frames_out, 1u);
}

TEST_F(TapBackendTest, WhatTheHostTransmitsOnAGrabbedInterfaceStaysOut) {
  // Only frames the interface receives enter the network, not the host's own on it.
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_THAT(Here().Shell("ip addr add 10.77.4.2/24 dev ipnv0"), Succeeds());
  ASSERT_TRUE(Attach(InterfaceKind::kGrab, "ipnv0").ok());
  ASSERT_EQ(a_->Adopt("ipnv1", "10.77.4.1/24"), absl::OkStatus());
  std::unique_ptr<Port> plain = JoinPlainPort(*network_);
  ASSERT_NE(plain, nullptr);
  const std::string host_mac = Here().MacAddressOf("ipnv0");
  const std::string peer_mac = a_->MacAddressOf("ipnv1");
  ASSERT_FALSE(host_mac.empty());

  // The host's ARP requests for 10.77.4.9 go out on ipnv0; A's come in on it.
  Here().Shell("ping -c 1 -W 1 10.77.4.9 >/dev/null");
  a_->Shell("ping -c 1 -W 1 10.77.4.9 >/dev/null");
  std::vector<std::string> frames;
  for (std::optional<std::string> frame;
       (frame = ReceiveFrame(
            *plain, [](absl::string_view) { return true; }, absl::Seconds(1)));) {
    frames.push_back(*std::move(frame));
  }
  EXPECT_TRUE(std::any_of(frames.begin(), frames.end(), ArpFrom(peer_mac)));
  EXPECT_FALSE(std::any_of(frames.begin(), frames.end(), ArpFrom(host_mac)));
}

TEST_F(TapBackendTest, FramesFromTheGrabbedInterfaceEnterTheNetwork) {
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_TRUE(Attach(InterfaceKind::kGrab, "ipnv0").ok());
  ASSERT_EQ(a_->Adopt("ipnv1", "10.77.4.1/24"), absl::OkStatus());
  std::unique_ptr<Port> plain = JoinPlainPort(*network_);
  ASSERT_NE(plain, nullptr);
  const std::string mac = a_->MacAddressOf("ipnv1");

  a_->Shell("ping -c 1 -W 1 10.77.4.9 >/dev/null");
  EXPECT_TRUE(ReceiveFrame(*plain, ArpFrom(mac), absl::Seconds(3)).has_value());
}

TEST_F(TapBackendTest, GrabbedInterfaceGoingDownAndUpStaysAttached) {
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_TRUE(Attach(InterfaceKind::kGrab, "ipnv0").ok());
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_EQ(a_->Adopt("ipnv1", "10.77.5.1/24"), absl::OkStatus());
  ASSERT_EQ(b_->Adopt("ipn0", "10.77.5.2/24"), absl::OkStatus());

  ASSERT_THAT(Here().Shell("ip link set ipnv0 down"), Succeeds());
  absl::SleepFor(absl::Milliseconds(1500));  // Past a liveness check.
  ASSERT_THAT(Here().Shell("ip link set ipnv0 up"), Succeeds());
  EXPECT_EQ(backend_->Attached(InterfaceKind::kGrab, *network_), (Names{"ipnv0"}));
  EXPECT_TRUE(a_->Pings("10.77.5.2"));
}

TEST_F(TapBackendTest, DeletedTapIsDetachedAndTheNetworkGoesOn) {
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn1").ok());
  ASSERT_EQ(a_->Adopt("ipn0", "10.77.6.1/24"), absl::OkStatus());
  ASSERT_EQ(b_->Adopt("ipn1", "10.77.6.2/24"), absl::OkStatus());
  std::unique_ptr<Port> plain = JoinPlainPort(*network_);
  ASSERT_NE(plain, nullptr);
  ASSERT_EQ(network_->stats().ports, 3u);

  StderrCapture log;
  ASSERT_THAT(a_->Shell("ip link del ipn0"), Succeeds());
  EXPECT_TRUE(
      WaitUntil([&] { return backend_->Attached(InterfaceKind::kTap, *network_) == Names{"ipn1"}; },
                absl::Seconds(1)));
  EXPECT_TRUE(WaitUntil([&] { return network_->stats().ports == 2; }, absl::Seconds(1)));
  EXPECT_NE(log.Text().find("tap:ipn0 is gone"), std::string::npos) << log.Text();
  EXPECT_EQ(StatusToErrno(backend_->Counters("ipn0").status()), ENOENT);

  // The rest of the network works on: both ways between the plain port and ipn1.
  std::unique_ptr<FrameCapture> capture = CaptureTestFrame(*b_, "ipn1", 3);
  ASSERT_NE(capture, nullptr);
  ASSERT_TRUE(plain->Send(TestFrame(3).Build(), absl::Now()).ok());
  EXPECT_TRUE(capture->Captured(absl::Seconds(10)));
  const std::string mac = b_->MacAddressOf("ipn1");
  b_->Shell("ping -c 1 -W 1 10.77.6.9 >/dev/null");
  EXPECT_TRUE(ReceiveFrame(*plain, ArpFrom(mac), absl::Seconds(3)).has_value());
  // The name is free again.
  EXPECT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
}

TEST_F(TapBackendTest, DeletedGrabbedInterfaceIsDetached) {
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_TRUE(Attach(InterfaceKind::kGrab, "ipnv0").ok());
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_THAT(Here().Shell("ip link del ipnv0"), Succeeds());
  EXPECT_TRUE(WaitUntil([&] { return backend_->Attached(InterfaceKind::kGrab, *network_).empty(); },
                        absl::Seconds(1)));
  EXPECT_EQ(backend_->Attached(InterfaceKind::kTap, *network_), (Names{"ipn0"}));
}

TEST_F(TapBackendTest, DetachDeletesTheTapAndFreesTheName) {
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  EXPECT_NE(InterfaceIndex("ipn0"), 0);
  ASSERT_TRUE(backend_->Detach(InterfaceKind::kTap, "ipn0", *network_).ok());
  EXPECT_EQ(InterfaceIndex("ipn0"), 0);
  EXPECT_TRUE(backend_->Attached(InterfaceKind::kTap, *network_).empty());
  EXPECT_EQ(network_->stats().ports, 0u);
  EXPECT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
}

TEST_F(TapBackendTest, DetachOfAMovedTapDeletesItThere) {
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_EQ(a_->Adopt("ipn0", "10.77.7.1/24"), absl::OkStatus());
  ASSERT_TRUE(backend_->Detach(InterfaceKind::kTap, "ipn0", *network_).ok());
  EXPECT_FALSE(a_->HasInterface("ipn0"));
}

TEST_F(TapBackendTest, DetachOfWhatIsNotAttachedIsEnoent) {
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  std::shared_ptr<Network> other = NewHub();
  EXPECT_EQ(StatusToErrno(backend_->Detach(InterfaceKind::kTap, "ipn9", *network_)), ENOENT);
  EXPECT_EQ(StatusToErrno(backend_->Detach(InterfaceKind::kTap, "ipn0", *other)), ENOENT);
  EXPECT_EQ(StatusToErrno(backend_->Detach(InterfaceKind::kGrab, "ipn0", *network_)), ENOENT);
  EXPECT_EQ(backend_->Attached(InterfaceKind::kTap, *network_), (Names{"ipn0"}));
}

TEST_F(TapBackendTest, AttachingTwiceToTheSameNetworkChangesNothing) {
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  EXPECT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  EXPECT_EQ(backend_->Attached(InterfaceKind::kTap, *network_), (Names{"ipn0"}));
  EXPECT_EQ(network_->stats().ports, 1u);
}

TEST_F(TapBackendTest, InvalidNamesAreEinval) {
  for (const std::string& name : Names{"", "sixteen-bytes-xx", "a/b", "a b", "tab\tx"}) {
    EXPECT_EQ(StatusToErrno(Attach(InterfaceKind::kTap, name)), EINVAL) << name;
    EXPECT_EQ(StatusToErrno(Attach(InterfaceKind::kGrab, name)), EINVAL) << name;
  }
  EXPECT_TRUE(backend_->Attached(InterfaceKind::kTap, *network_).empty());
  EXPECT_EQ(network_->stats().ports, 0u);
}

TEST_F(TapBackendTest, GrabOfLoopbackOrAMissingInterfaceIsEinval) {
  EXPECT_EQ(StatusToErrno(Attach(InterfaceKind::kGrab, "lo")), EINVAL);
  EXPECT_EQ(StatusToErrno(Attach(InterfaceKind::kGrab, "ipn-nothere")), EINVAL);
  EXPECT_TRUE(backend_->Attached(InterfaceKind::kGrab, *network_).empty());
  EXPECT_EQ(network_->stats().ports, 0u);
}

TEST_F(TapBackendTest, TapNameTakenByAnotherInterfaceIsEexist) {
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_THAT(Here().Shell("ip link add ipnb0 type bridge"), Succeeds());
  const int bridge = InterfaceIndex("ipnb0");
  EXPECT_EQ(StatusToErrno(Attach(InterfaceKind::kTap, "ipnv1")), EEXIST);
  EXPECT_EQ(StatusToErrno(Attach(InterfaceKind::kTap, "ipnb0")), EEXIST);
  EXPECT_EQ(InterfaceIndex("ipnb0"), bridge);  // Untouched.
  EXPECT_TRUE(backend_->Attached(InterfaceKind::kTap, *network_).empty());
  EXPECT_EQ(network_->stats().ports, 0u);
}

TEST_F(TapBackendTest, PersistentTapOfSomeoneElseIsEexistNotReattached) {
  // TUNSETIFF alone would attach to this tap: the backend must refuse it.
  ASSERT_THAT(Here().Shell("ip tuntap add ipnt0 mode tap"), Succeeds());
  const int tap = InterfaceIndex("ipnt0");
  EXPECT_EQ(StatusToErrno(Attach(InterfaceKind::kTap, "ipnt0")), EEXIST);
  // Even when the name check is raced: the device refuses to attach to what exists.
  EXPECT_EQ(StatusToErrno(TapDevice::Create("ipnt0").status()), EEXIST);
  EXPECT_EQ(InterfaceIndex("ipnt0"), tap);
  EXPECT_TRUE(backend_->Attached(InterfaceKind::kTap, *network_).empty());
}

TEST_F(TapBackendTest, TapOfAnotherNetworkOrKindIsEexist) {
  std::shared_ptr<Network> other = NewHub();
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  EXPECT_EQ(StatusToErrno(backend_->Attach(InterfaceKind::kTap, "ipn0", other)), EEXIST);
  EXPECT_EQ(StatusToErrno(Attach(InterfaceKind::kGrab, "ipn0")), EEXIST);
  EXPECT_TRUE(backend_->Attached(InterfaceKind::kTap, *other).empty());
  EXPECT_EQ(backend_->Attached(InterfaceKind::kTap, *network_), (Names{"ipn0"}));
}

TEST_F(TapBackendTest, DroppedFramesAreCountedNotFatal) {
  // A frame below the Ethernet minimum header is refused by the tap driver (EINVAL): counted.
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  std::unique_ptr<Port> plain = JoinPlainPort(*network_);
  ASSERT_NE(plain, nullptr);
  ASSERT_TRUE(plain->Send(std::vector<uint8_t>{1, 2, 3}, absl::Now()).ok());
  EXPECT_TRUE(
      WaitUntil([&] { return backend_->Counters("ipn0")->drops_out == 1; }, absl::Seconds(1)));
  EXPECT_EQ(backend_->Attached(InterfaceKind::kTap, *network_), (Names{"ipn0"}));
}

TEST_F(TapBackendTest, BurstOfFramesIsWrittenOrCountedAsDropped) {
  // More frames at once than write slots and queue room: each is either written to the tap or
  // counted as dropped (by the port's queue or by the backend), none vanishes.
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  std::unique_ptr<Port> plain = JoinPlainPort(*network_);
  ASSERT_NE(plain, nullptr);
  constexpr uint64_t kFrames = 3000;
  for (uint64_t i = 0; i < kFrames; ++i) {
    ASSERT_TRUE(plain->Send(TestFrame(static_cast<uint8_t>(i)).Build(), absl::Now()).ok());
  }
  auto accounted = [&] {
    uint64_t queue_drops = 0;
    for (const PortInfo& port : network_->ports()) {
      if (port.owner.command == "tap:ipn0") queue_drops = port.counters.dropped;
    }
    const InterfaceCounters counters = *backend_->Counters("ipn0");
    return counters.frames_out + counters.drops_out + queue_drops;
  };
  EXPECT_TRUE(WaitUntil([&] { return accounted() == kFrames; }, absl::Seconds(5)))
      << accounted() << " of " << kFrames;
  EXPECT_GT(backend_->Counters("ipn0")->frames_out, 0u);
}

TEST_F(TapBackendTest, IdleBackendDoesNotSpin) {
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_TRUE(Attach(InterfaceKind::kGrab, "ipnv0").ok());
  absl::SleepFor(absl::Milliseconds(200));
  timespec before{}, after{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &before);
  absl::SleepFor(absl::Seconds(1));
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &after);
  const absl::Duration used =
      absl::DurationFromTimespec(after) - absl::DurationFromTimespec(before);
  EXPECT_LT(used, absl::Milliseconds(100));
}

// Clears CAP_NET_ADMIN from every capability set of the calling process, bounding set included.
bool DropNetAdmin() {
  if (prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN, 0, 0, 0) != 0) return false;
  __user_cap_header_struct header{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  const unsigned index = CAP_TO_INDEX(CAP_NET_ADMIN);
  data[index].effective &= ~CAP_TO_MASK(CAP_NET_ADMIN);
  data[index].permitted &= ~CAP_TO_MASK(CAP_NET_ADMIN);
  data[index].inheritable &= ~CAP_TO_MASK(CAP_NET_ADMIN);
  return syscall(SYS_capset, &header, data) == 0;
}

// In a child without CAP_NET_ADMIN: what went wrong, as an exit code (0: all as expected).
int AttachWithoutNetAdmin(int log_fd) {
  if (!DropNetAdmin()) return 10;
  if (HasNetAdmin()) return 11;
  // The kernel itself refuses now: the capability is really gone.
  if (StatusToErrno(TapDevice::Create("ipnp2").status()) != EPERM) return 12;
  dup2(log_fd, STDERR_FILENO);
  absl::StatusOr<std::unique_ptr<TapBackend>> backend = TapBackend::Create();
  if (!backend.ok()) return 13;
  std::shared_ptr<Network> network = NewHub();
  if (StatusToErrno((*backend)->Attach(InterfaceKind::kTap, "ipnp2", network)) != EPERM) return 14;
  if (StatusToErrno((*backend)->Attach(InterfaceKind::kGrab, "ipnp0", network)) != EPERM) {
    return 15;
  }
  if (!(*backend)->Attached(InterfaceKind::kTap, *network).empty()) return 16;
  if (InterfaceIndex("ipnp2") != 0) return 17;
  return 0;
}

TEST_F(TapBackendTest, WithoutNetAdminAttachIsEpermAndLogged) {
  ASSERT_TRUE(MakeVeth("ipnp0", "ipnp1"));
  backend_.reset();  // No other thread while forking.
  StderrCapture log;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(AttachWithoutNetAdmin(STDERR_FILENO));
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see AttachWithoutNetAdmin for the code";
  EXPECT_NE(log.Text().find("CAP_NET_ADMIN"), std::string::npos) << log.Text();
  EXPECT_EQ(InterfaceIndex("ipnp2"), 0);
}

}  // namespace
}  // namespace ipnfs::tests
