// Integration tests of the tap backend against the real kernel, as a user would see it: taps and
// grabbed veths in network namespaces, ping and tcpdump inside them, plain ports on the network.
//
// Needs root (CAP_NET_ADMIN), /dev/net/tun, io_uring, and ip, nsenter, ping, tcpdump. The whole
// test process first moves into a private network namespace, so nothing it creates is ever seen
// by the host, and every "host" namespace is held by a child process that dies with the test:
// interfaces and namespaces go away even when a test fails or crashes.
#include "tap/tap_backend.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/errno_status.h"
#include "core/network.h"
#include "core/port.h"
#include "policies/hub_policy.h"
#include "tap/link_control.h"
#include "tap/tap_device.h"

namespace ipnfs {
namespace {

constexpr uint16_t kTestEtherType = 0x88b5;  // IEEE "local experimental".
constexpr uint16_t kArp = 0x0806;

// Moves the whole test process into a new network namespace before any test runs.
class PrivateNetworkNamespace : public ::testing::Environment {
 public:
  void SetUp() override {
    ASSERT_EQ(unshare(CLONE_NEWNET), 0)
        << "unshare(CLONE_NEWNET): " << strerror(errno) << " (the tap tests need root)";
  }
};
::testing::Environment* const kPrivateNamespace =
    ::testing::AddGlobalTestEnvironment(new PrivateNetworkNamespace);

// Runs `command` with /bin/sh in the test's namespace; its exit status (-1 if it did not exit).
int Shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs `command` and returns what it printed on stdout and stderr.
std::string ShellOutput(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  pclose(pipe);
  return output;
}

// A network namespace held by a child process: a "host" of the test network. The namespace, and
// every interface in it, goes away with the child, which dies with the test process.
class Host {
 public:
  Host() {
    int ready[2];
    if (pipe(ready) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      // Async-signal-safe calls only: the parent may have other threads.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      char ok = unshare(CLONE_NEWNET) == 0 ? '1' : '0';
      if (write(ready[1], &ok, 1) != 1) _exit(1);
      for (;;) pause();
    }
    close(ready[1]);
    char ok = '0';
    if (pid_ < 0 || read(ready[0], &ok, 1) != 1 || ok != '1') pid_ = -1;
    close(ready[0]);
    if (pid_ > 0) Run("ip link set lo up");
  }
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;
  ~Host() {
    if (pid_ <= 0) return;  // Nothing to end for the test's own namespace.
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }

  bool ok() const { return pid_ > 0; }
  // The test's own namespace, as a Host that runs commands directly.
  static const Host& Here() {
    static const Host* const here = new Host(0);
    return *here;
  }

  // The shell command that runs `command` inside this namespace.
  std::string Inside(const std::string& command) const {
    EXPECT_EQ(command.find('\''), std::string::npos) << command;
    if (pid_ == 0) return absl::StrCat("sh -c '", command, "'");
    return absl::StrCat("nsenter --net=/proc/", pid_, "/ns/net sh -c '", command, "'");
  }
  int Run(const std::string& command) const { return Shell(Inside(command)); }
  std::string Output(const std::string& command) const { return ShellOutput(Inside(command)); }

  // Moves `interface` from the test's namespace in here, sets it up with `address` (CIDR).
  ::testing::AssertionResult Adopt(const std::string& interface, const std::string& address) {
    if (Shell(absl::StrCat("ip link set ", interface, " netns ", pid_)) != 0) {
      return ::testing::AssertionFailure() << "cannot move " << interface;
    }
    if (Run(absl::StrCat("ip link set ", interface, " up && ip addr add ", address, " dev ",
                         interface)) != 0) {
      return ::testing::AssertionFailure() << "cannot set up " << interface;
    }
    return ::testing::AssertionSuccess();
  }

  // True when three pings to `address` all get an answer.
  ::testing::AssertionResult Pings(const std::string& address) const {
    const std::string output = Output(absl::StrCat("ping -c 3 -W 2 ", address));
    if (output.find(" 3 received") != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "ping " << address << ":\n" << output;
  }

 private:
  explicit Host(pid_t pid) : pid_(pid) {}

  pid_t pid_ = -1;  // 0 for the test's own namespace.
};

// tcpdump waiting for one frame of kTestEtherType on an interface of a host.
class Capture {
 public:
  Capture(const Host& host, const std::string& interface) {
    pipe_ = popen((host.Inside(absl::StrCat("timeout 10 tcpdump -i ", interface,
                                            " -c 1 -n -e -l ether proto ", kTestEtherType)) +
                   " 2>&1")
                      .c_str(),
                  "r");
    // Returns once tcpdump listens, so that a frame sent from now on is seen.
    while (pipe_ != nullptr && ReadLine()) {
      if (output_.find("listening on") != std::string::npos) {
        listening_ = true;
        break;
      }
    }
  }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;
  ~Capture() {
    if (pipe_ != nullptr) pclose(pipe_);
  }

  bool listening() const { return listening_; }

  // Waits for tcpdump to end (a frame seen, or 10 s passed); true when it saw the frame.
  ::testing::AssertionResult Seen() {
    while (pipe_ != nullptr && ReadLine()) {
    }
    if (output_.find("1 packet captured") != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "tcpdump saw no test frame:\n" << output_;
  }

 private:
  bool ReadLine() {
    char line[1024];
    if (fgets(line, sizeof(line), pipe_) == nullptr) return false;
    output_ += line;
    return true;
  }

  FILE* pipe_ = nullptr;
  bool listening_ = false;
  std::string output_;
};

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

// A broadcast frame of kTestEtherType from a locally administered MAC.
std::vector<uint8_t> TestFrame(uint8_t marker) {
  std::vector<uint8_t> frame = {0xff,
                                0xff,
                                0xff,
                                0xff,
                                0xff,
                                0xff,
                                0x02,
                                0x00,
                                0x5e,
                                0x10,
                                0x00,
                                marker,
                                kTestEtherType >> 8,
                                kTestEtherType & 0xff};
  frame.resize(60, marker);
  return frame;
}

uint16_t EtherType(const std::vector<uint8_t>& frame) {
  return frame.size() < 14 ? 0 : static_cast<uint16_t>(frame[12] << 8 | frame[13]);
}

// The source MAC of `frame` as "aa:bb:cc:dd:ee:ff".
std::string SourceMac(const std::vector<uint8_t>& frame) {
  char text[18] = "";
  if (frame.size() >= 12) {
    snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", frame[6], frame[7], frame[8],
             frame[9], frame[10], frame[11]);
  }
  return text;
}

// The MAC address of `interface` in `host`.
std::string MacOf(const Host& host, const std::string& interface) {
  const std::string output = host.Output(absl::StrCat("ip -o link show ", interface));
  const size_t at = output.find("link/ether ");
  return at == std::string::npos ? "" : output.substr(at + 11, 17);
}

// A non-blocking reader that copies the frame it gets.
class CopyReader final : public ReadWaiter {
 public:
  explicit CopyReader(std::optional<std::vector<uint8_t>>& frame)
      : ReadWaiter(1, 1 << 16), frame_(frame) {}
  bool Abandoned() const override { return false; }
  void Complete(const Packet& packet) override {
    frame_.emplace(packet.bytes().begin(), packet.bytes().end());
  }
  void Fail(int) override {}

 private:
  std::optional<std::vector<uint8_t>>& frame_;
};

// The first frame `port` receives within `timeout` that `wanted` accepts.
std::optional<std::vector<uint8_t>> ReceiveFrame(
    Port& port, const std::function<bool(const std::vector<uint8_t>&)>& wanted,
    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::optional<std::vector<uint8_t>> frame;
    port.Receive(std::make_unique<CopyReader>(frame), Waiting::kNever, absl::Now());
    if (!frame) {
      absl::SleepFor(absl::Milliseconds(10));
    } else if (wanted(*frame)) {
      return frame;
    }
  }
  return std::nullopt;
}

// Waits up to `timeout` for `condition`.
bool Eventually(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

using Names = std::vector<std::string>;

class TapBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(a_.ok() && b_.ok()) << "cannot create network namespaces";
    absl::StatusOr<std::unique_ptr<TapBackend>> backend = TapBackend::Create();
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = *std::move(backend);
  }

  void TearDown() override {
    backend_.reset();  // Deletes the taps it created.
    for (const std::string& name : made_here_) Shell("ip link del " + name + " 2>/dev/null");
  }

  // Creates, in the test's namespace, a veth pair or another interface, removed at the end.
  ::testing::AssertionResult MakeVeth(const std::string& name, const std::string& peer) {
    made_here_.push_back(name);
    if (Shell(absl::StrCat("ip link add ", name, " type veth peer name ", peer, " && ip link set ",
                           name, " up")) == 0) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "cannot create veth " << name;
  }
  // `command` creates interface `name`.
  ::testing::AssertionResult MakeInterface(const std::string& name, const std::string& command) {
    made_here_.push_back(name);
    if (Shell(command) == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "cannot create " << name << ": " << command;
  }

  absl::Status Attach(InterfaceKind kind, const std::string& name) {
    return backend_->Attach(kind, name, network_);
  }

  Host a_;
  Host b_;
  std::shared_ptr<Network> network_ = NewHub();
  std::unique_ptr<TapBackend> backend_;
  std::vector<std::string> made_here_;
};

TEST_F(TapBackendTest, TapsInTwoNamespacesPingEachOther) {
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn1").ok());
  EXPECT_EQ(backend_->Attached(InterfaceKind::kTap, *network_), (Names{"ipn0", "ipn1"}));
  // Moving a tap to another namespace keeps it attached: its descriptor stays valid.
  ASSERT_TRUE(a_.Adopt("ipn0", "10.77.0.1/24"));
  ASSERT_TRUE(b_.Adopt("ipn1", "10.77.0.2/24"));

  EXPECT_TRUE(a_.Pings("10.77.0.2"));
  EXPECT_TRUE(b_.Pings("10.77.0.1"));

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
  ASSERT_TRUE(a_.Adopt("ipn0", "10.77.1.1/24"));
  std::unique_ptr<Port> plain = JoinPlainPort(*network_);
  ASSERT_NE(plain, nullptr);

  Capture capture(a_, "ipn0");
  ASSERT_TRUE(capture.listening());
  ASSERT_TRUE(plain->Send(TestFrame(1), absl::Now()).ok());
  EXPECT_TRUE(capture.Seen());
  EXPECT_GE(backend_->Counters("ipn0")->frames_out, 1u);
}

TEST_F(TapBackendTest, FrameSentOnTheTapIsReadFromAPlainPort) {
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_TRUE(a_.Adopt("ipn0", "10.77.1.1/24"));
  std::unique_ptr<Port> plain = JoinPlainPort(*network_);
  ASSERT_NE(plain, nullptr);
  const std::string mac = MacOf(a_, "ipn0");
  ASSERT_FALSE(mac.empty());

  // Nobody answers 10.77.1.9: the kernel broadcasts ARP requests for it on ipn0.
  a_.Run("ping -c 1 -W 1 10.77.1.9 >/dev/null");
  std::optional<std::vector<uint8_t>> arp = ReceiveFrame(
      *plain,
      [&](const std::vector<uint8_t>& frame) {
        return EtherType(frame) == kArp && SourceMac(frame) == mac;
      },
      absl::Seconds(3));
  EXPECT_TRUE(arp.has_value()) << "no ARP request from " << mac << " reached the plain port";
}

TEST_F(TapBackendTest, GrabbedVethReachesATapOfTheSameNetwork) {
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_TRUE(Attach(InterfaceKind::kGrab, "ipnv0").ok());
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_TRUE(a_.Adopt("ipnv1", "10.77.2.1/24"));
  ASSERT_TRUE(b_.Adopt("ipn0", "10.77.2.2/24"));

  EXPECT_TRUE(a_.Pings("10.77.2.2"));
  EXPECT_TRUE(b_.Pings("10.77.2.1"));
  EXPECT_EQ(backend_->Attached(InterfaceKind::kGrab, *network_), (Names{"ipnv0"}));
  EXPECT_EQ(backend_->Attached(InterfaceKind::kTap, *network_), (Names{"ipn0"}));
}

TEST_F(TapBackendTest, TcpThroughAGrabbedVethHasValidChecksums) {
  // veth leaves TCP checksums to "hardware": the grab must complete them, or B drops every
  // segment. 200 kB each way: from A they come as TSO super-frames, which pass whole.
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_TRUE(Attach(InterfaceKind::kGrab, "ipnv0").ok());
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_TRUE(a_.Adopt("ipnv1", "10.77.3.1/24"));
  ASSERT_TRUE(b_.Adopt("ipn0", "10.77.3.2/24"));

  const std::string server = b_.Inside(
      "timeout 20 python3 -c \"import socket; s = socket.create_server((\\\"10.77.3.2\\\", 7000)); "
      "c, _ = s.accept(); d = b\\\"\\\"\n"
      "while len(d) < 200000: d += c.recv(65536)\n"
      "c.sendall(d[::-1]); c.close()\"");
  std::thread serving([&] { Shell(server); });
  absl::SleepFor(absl::Milliseconds(500));
  const std::string reply = a_.Output(
      "timeout 15 python3 -c \"import socket; c = socket.create_connection((\\\"10.77.3.2\\\", "
      "7000)); c.sendall(bytes(range(250)) * 800); d = b\\\"\\\"\n"
      "while len(d) < 200000:\n"
      "  x = c.recv(65536)\n"
      "  if not x: break\n"
      "  d += x\n"
      "print(len(d), d == (bytes(range(250)) * 800)[::-1])\"");
  serving.join();
  EXPECT_EQ(reply, "200000 True\n");
}

TEST_F(TapBackendTest, GrabbedInterfaceNeverReadsBackWhatItTransmits) {
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_TRUE(Attach(InterfaceKind::kGrab, "ipnv0").ok());
  ASSERT_TRUE(a_.Adopt("ipnv1", "10.77.4.1/24"));
  std::unique_ptr<Port> plain = JoinPlainPort(*network_);
  ASSERT_NE(plain, nullptr);

  Capture capture(a_, "ipnv1");
  ASSERT_TRUE(capture.listening());
  const std::vector<uint8_t> sent = TestFrame(2);
  ASSERT_TRUE(plain->Send(sent, absl::Now()).ok());
  EXPECT_TRUE(capture.Seen());  // It went out on ipnv0, so it reached the other end...
  // ...and did not come back in: the hub would have delivered it to the plain port.
  EXPECT_FALSE(ReceiveFrame(
                   *plain, [&](const std::vector<uint8_t>& frame) { return frame == sent; },
                   absl::Milliseconds(500))
                   .has_value());
  EXPECT_EQ(backend_->Counters("ipnv0")->frames_out, 1u);
}

TEST_F(TapBackendTest, WhatTheHostTransmitsOnAGrabbedInterfaceStaysOut) {
  // Only frames the interface receives enter the network, not the host's own on it.
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_EQ(Shell("ip addr add 10.77.4.2/24 dev ipnv0"), 0);
  ASSERT_TRUE(Attach(InterfaceKind::kGrab, "ipnv0").ok());
  ASSERT_TRUE(a_.Adopt("ipnv1", "10.77.4.1/24"));
  std::unique_ptr<Port> plain = JoinPlainPort(*network_);
  ASSERT_NE(plain, nullptr);
  const std::string host_mac = MacOf(Host::Here(), "ipnv0");
  const std::string peer_mac = MacOf(a_, "ipnv1");
  ASSERT_FALSE(host_mac.empty());

  // The host's ARP requests for 10.77.4.9 go out on ipnv0; A's come in on it.
  Shell("ping -c 1 -W 1 10.77.4.9 >/dev/null");
  a_.Run("ping -c 1 -W 1 10.77.4.9 >/dev/null");
  auto arp_from = [&](const std::string& mac) {
    return [&, mac](const std::vector<uint8_t>& frame) {
      return EtherType(frame) == kArp && SourceMac(frame) == mac;
    };
  };
  std::vector<std::vector<uint8_t>> frames;
  for (std::optional<std::vector<uint8_t>> frame;
       (frame = ReceiveFrame(
            *plain, [](const auto&) { return true; }, absl::Seconds(1)));) {
    frames.push_back(*std::move(frame));
  }
  EXPECT_TRUE(std::any_of(frames.begin(), frames.end(), arp_from(peer_mac)));
  EXPECT_FALSE(std::any_of(frames.begin(), frames.end(), arp_from(host_mac)));
}

TEST_F(TapBackendTest, FramesFromTheGrabbedInterfaceEnterTheNetwork) {
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_TRUE(Attach(InterfaceKind::kGrab, "ipnv0").ok());
  ASSERT_TRUE(a_.Adopt("ipnv1", "10.77.4.1/24"));
  std::unique_ptr<Port> plain = JoinPlainPort(*network_);
  ASSERT_NE(plain, nullptr);
  const std::string mac = MacOf(a_, "ipnv1");

  a_.Run("ping -c 1 -W 1 10.77.4.9 >/dev/null");
  EXPECT_TRUE(ReceiveFrame(
                  *plain,
                  [&](const std::vector<uint8_t>& frame) {
                    return EtherType(frame) == kArp && SourceMac(frame) == mac;
                  },
                  absl::Seconds(3))
                  .has_value());
}

TEST_F(TapBackendTest, GrabbedInterfaceGoingDownAndUpStaysAttached) {
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_TRUE(Attach(InterfaceKind::kGrab, "ipnv0").ok());
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_TRUE(a_.Adopt("ipnv1", "10.77.5.1/24"));
  ASSERT_TRUE(b_.Adopt("ipn0", "10.77.5.2/24"));

  ASSERT_EQ(Shell("ip link set ipnv0 down"), 0);
  absl::SleepFor(absl::Milliseconds(1500));  // Past a liveness check.
  ASSERT_EQ(Shell("ip link set ipnv0 up"), 0);
  EXPECT_EQ(backend_->Attached(InterfaceKind::kGrab, *network_), (Names{"ipnv0"}));
  EXPECT_TRUE(a_.Pings("10.77.5.2"));
}

TEST_F(TapBackendTest, DeletedTapIsDetachedAndTheNetworkGoesOn) {
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn1").ok());
  ASSERT_TRUE(a_.Adopt("ipn0", "10.77.6.1/24"));
  ASSERT_TRUE(b_.Adopt("ipn1", "10.77.6.2/24"));
  std::unique_ptr<Port> plain = JoinPlainPort(*network_);
  ASSERT_NE(plain, nullptr);
  ASSERT_EQ(network_->stats().ports, 3u);

  StderrCapture log;
  ASSERT_EQ(a_.Run("ip link del ipn0"), 0);
  EXPECT_TRUE(Eventually(
      [&] { return backend_->Attached(InterfaceKind::kTap, *network_) == Names{"ipn1"}; },
      absl::Seconds(1)));
  EXPECT_TRUE(Eventually([&] { return network_->stats().ports == 2; }, absl::Seconds(1)));
  EXPECT_NE(log.Text().find("tap:ipn0 is gone"), std::string::npos) << log.Text();
  EXPECT_EQ(StatusToErrno(backend_->Counters("ipn0").status()), ENOENT);

  // The rest of the network works on: both ways between the plain port and ipn1.
  Capture capture(b_, "ipn1");
  ASSERT_TRUE(capture.listening());
  ASSERT_TRUE(plain->Send(TestFrame(3), absl::Now()).ok());
  EXPECT_TRUE(capture.Seen());
  const std::string mac = MacOf(b_, "ipn1");
  b_.Run("ping -c 1 -W 1 10.77.6.9 >/dev/null");
  EXPECT_TRUE(ReceiveFrame(
                  *plain,
                  [&](const std::vector<uint8_t>& frame) {
                    return EtherType(frame) == kArp && SourceMac(frame) == mac;
                  },
                  absl::Seconds(3))
                  .has_value());
  // The name is free again.
  EXPECT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
}

TEST_F(TapBackendTest, DeletedGrabbedInterfaceIsDetached) {
  ASSERT_TRUE(MakeVeth("ipnv0", "ipnv1"));
  ASSERT_TRUE(Attach(InterfaceKind::kGrab, "ipnv0").ok());
  ASSERT_TRUE(Attach(InterfaceKind::kTap, "ipn0").ok());
  ASSERT_EQ(Shell("ip link del ipnv0"), 0);
  EXPECT_TRUE(
      Eventually([&] { return backend_->Attached(InterfaceKind::kGrab, *network_).empty(); },
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
  ASSERT_TRUE(a_.Adopt("ipn0", "10.77.7.1/24"));
  ASSERT_TRUE(backend_->Detach(InterfaceKind::kTap, "ipn0", *network_).ok());
  EXPECT_NE(a_.Run("ip link show ipn0 >/dev/null 2>&1"), 0);
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
  ASSERT_TRUE(MakeInterface("ipnb0", "ip link add ipnb0 type bridge"));
  const int bridge = InterfaceIndex("ipnb0");
  EXPECT_EQ(StatusToErrno(Attach(InterfaceKind::kTap, "ipnv1")), EEXIST);
  EXPECT_EQ(StatusToErrno(Attach(InterfaceKind::kTap, "ipnb0")), EEXIST);
  EXPECT_EQ(InterfaceIndex("ipnb0"), bridge);  // Untouched.
  EXPECT_TRUE(backend_->Attached(InterfaceKind::kTap, *network_).empty());
  EXPECT_EQ(network_->stats().ports, 0u);
}

TEST_F(TapBackendTest, PersistentTapOfSomeoneElseIsEexistNotReattached) {
  // TUNSETIFF alone would attach to this tap: the backend must refuse it.
  ASSERT_TRUE(MakeInterface("ipnt0", "ip tuntap add ipnt0 mode tap"));
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
      Eventually([&] { return backend_->Counters("ipn0")->drops_out == 1; }, absl::Seconds(1)));
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
    ASSERT_TRUE(plain->Send(TestFrame(static_cast<uint8_t>(i)), absl::Now()).ok());
  }
  auto accounted = [&] {
    uint64_t queue_drops = 0;
    for (const PortInfo& port : network_->ports()) {
      if (port.owner.command == "tap:ipn0") queue_drops = port.counters.dropped;
    }
    const InterfaceCounters counters = *backend_->Counters("ipn0");
    return counters.frames_out + counters.drops_out + queue_drops;
  };
  EXPECT_TRUE(Eventually([&] { return accounted() == kFrames; }, absl::Seconds(5)))
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
}  // namespace ipnfs
