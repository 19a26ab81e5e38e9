// Frames between a tap and plain processes on the same network: what a process writes into the
// network file leaves on the tap (tcpdump sees it), what the kernel sends on the tap is read from
// the network file; also once the tap has moved to another namespace. A tap deleted behind the
// daemon's back, or the network removed, leaves the network cleanly.
#include <fcntl.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/port_io.h"
#include "tests/tap/frame_capture.h"
#include "tests/tap/ipn_attributes.h"
#include "tests/tap/network_namespace.h"
#include "tests/tap/tap_test.h"
#include "tests/tap/test_frames.h"
#include "tests/wait_until.h"

namespace ipnfs::tests {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using TapFramesTest = TapTest;

// Success when frame `marker`, written into the network file `fd`, leaves on `interface` of `ns`.
::testing::AssertionResult WrittenFrameLeavesOn(int fd, const NetworkNamespace& ns,
                                                const std::string& interface, uint8_t marker) {
  absl::StatusOr<std::unique_ptr<FrameCapture>> capture =
      FrameCapture::Start(ns, interface, TestFrameFilter(marker));
  if (!capture.ok()) return ::testing::AssertionFailure() << capture.status();
  const IoResult sent = Send(fd, TestFrame(marker).BuildString());
  if (sent.error != 0) return ::testing::AssertionFailure() << "write: " << sent.error;
  return (*capture)->Captured();
}

// Success when frame `marker`, sent by the kernel on `interface` of `ns`, is read from `fd`.
::testing::AssertionResult FrameSentOnArrives(const NetworkNamespace& ns,
                                              const std::string& interface, uint8_t marker,
                                              int fd) {
  const std::string frame = TestFrame(marker).BuildString();
  if (absl::Status sent = SendFrameOn(ns, interface, frame); !sent.ok()) {
    return ::testing::AssertionFailure() << sent;
  }
  if (ReceiveFrame(fd, [&](absl::string_view got) { return got == frame; }).has_value()) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "the frame sent on " << interface << " was not read from the network within 5 s";
}

TEST_F(TapFramesTest, FrameWrittenIntoTheNetworkIsSeenByTcpdumpOnTheTap) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0"), Succeeds());
  const Fd port = Open(net, O_WRONLY);
  ASSERT_TRUE(port.valid());
  EXPECT_TRUE(WrittenFrameLeavesOn(port.get(), NetworkNamespace::Here(), "ipn0", 1));
}

TEST_F(TapFramesTest, FrameSentOnTheTapIsReadFromTheNetworkFile) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0"), Succeeds());
  const Fd port = Open(net, O_RDONLY);
  ASSERT_TRUE(port.valid());
  EXPECT_TRUE(FrameSentOnArrives(NetworkNamespace::Here(), "ipn0", 2, port.get()));
}

TEST_F(TapFramesTest, TapMovedToAnotherNamespaceKeepsWorking) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0"), Succeeds());
  const Fd port = Open(net, O_RDWR);
  ASSERT_TRUE(port.valid());
  EXPECT_TRUE(WrittenFrameLeavesOn(port.get(), NetworkNamespace::Here(), "ipn0", 3));
  const NetworkNamespace* a = NewNamespace();
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->Adopt("ipn0", "10.79.4.1/24"), absl::OkStatus());
  ASSERT_FALSE(NetworkNamespace::Here().HasInterface("ipn0"));

  EXPECT_TRUE(WrittenFrameLeavesOn(port.get(), *a, "ipn0", 4));
  EXPECT_TRUE(FrameSentOnArrives(*a, "ipn0", 5, port.get()));
  EXPECT_EQ(AttachedInterfaces(net), "ipn0");
  EXPECT_THAT(PortOwners(net), Contains("tap:ipn0"));
}

TEST_F(TapFramesTest, TapDeletedBehindTheDaemonsBackLeavesTheNetworkCleanly) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1"), Succeeds());
  const Fd port = Open(net, O_RDWR);
  ASSERT_TRUE(port.valid());
  const NetworkNamespace* a = NewNamespace();
  const NetworkNamespace* b = NewNamespace();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_EQ(a->Adopt("ipn0", "10.79.5.1/24"), absl::OkStatus());
  ASSERT_EQ(b->Adopt("ipn1", "10.79.5.2/24"), absl::OkStatus());
  ASSERT_THAT(PortOwners(net), Contains("tap:ipn0"));
  const size_t logged_before = daemon().StderrText().size();

  ASSERT_THAT(a->Exec({"/usr/sbin/ip", "link", "del", "ipn0"}), Succeeds());
  EXPECT_TRUE(WaitUntil(
      [&] {
        const std::vector<std::string> owners = PortOwners(net);
        return std::find(owners.begin(), owners.end(), "tap:ipn0") == owners.end();
      },
      absl::Seconds(2)))
      << "tap:ipn0 is still a port 2 s after ip link del";
  EXPECT_THAT(PortOwners(net), Contains("tap:ipn1"));
  EXPECT_EQ(AttachedInterfaces(net), "ipn1");
  EXPECT_THAT(daemon().StderrText().substr(logged_before), HasSubstr("ipn0"))
      << "no log line about the deleted tap";

  // The rest of the network goes on, both ways between the plain port and the other tap.
  EXPECT_TRUE(WrittenFrameLeavesOn(port.get(), *b, "ipn1", 6));
  EXPECT_TRUE(FrameSentOnArrives(*b, "ipn1", 7, port.get()));
  // And the name is free for a new tap of the network.
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1"), Succeeds());
  EXPECT_EQ(AttachedInterfaces(net), "ipn0,ipn1");
  EXPECT_TRUE(NetworkNamespace::Here().HasInterface("ipn0"));
}

TEST_F(TapFramesTest, RemovingTheNetworkDeletesItsTapsWhereverTheyAre) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1"), Succeeds());
  const NetworkNamespace* a = NewNamespace();
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->Adopt("ipn1", "10.79.6.1/24"), absl::OkStatus());

  ASSERT_THAT(Shell("rm net0"), Succeeds());
  EXPECT_TRUE(
      WaitUntil([&] { return !NetworkNamespace::Here().HasInterface("ipn0"); }, absl::Seconds(2)));
  EXPECT_TRUE(WaitUntil([&] { return !a->HasInterface("ipn1"); }, absl::Seconds(2)));
  // A new network of that name may have them again.
  const std::string again = NewNetwork("net0");
  EXPECT_THAT(SetAttribute(again, "user.ipn.tap", "ipn0,ipn1"), Succeeds());
  EXPECT_EQ(AttachedInterfaces(again), "ipn0,ipn1");
  EXPECT_THAT(PortOwners(again), ElementsAre("tap:ipn0", "tap:ipn1"));
}

}  // namespace
}  // namespace ipnfs::tests
