// Integration tests of waiting for packets: poll(2), blocking reads parked in the daemon, and
// reads interrupted by signals, from C++ threads and from shell jobs.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <future>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mounted_test.h"
#include "tests/port_io.h"

namespace ipnfs::tests {
namespace {

using ::testing::HasSubstr;

class WaitingTest : public MountedTest {
 protected:
  // Joins network `name` (creating it) with `flags`.
  Fd Join(const std::string& name, int flags) {
    Fd fd = Open(PathOf(name), flags | O_CREAT, 0666);
    EXPECT_TRUE(fd.valid()) << "open " << name << ": " << std::strerror(errno);
    return fd;
  }
};

TEST_F(WaitingTest, PollerIsWokenWithPollInWhenAnotherPortSends) {
  Fd writer = Join("net", O_WRONLY);
  Fd reader = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  std::atomic<bool> sent{false};
  std::future<std::pair<int, bool>> poller = std::async(std::launch::async, [&] {
    pollfd entry{.fd = reader.get(), .events = POLLIN, .revents = 0};
    const int ready = ::poll(&entry, 1, /*timeout_ms=*/10000);
    const bool sent_before_wake = sent.load();
    return std::make_pair(ready > 0 ? static_cast<int>(entry.revents) : -ready, sent_before_wake);
  });
  ASSERT_EQ(poller.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout)
      << "poll() returned with nothing sent";

  sent = true;
  ASSERT_THAT(Send(writer.get(), "wake up"), Wrote(7));
  ASSERT_EQ(poller.wait_for(std::chrono::seconds(1)), std::future_status::ready)
      << "poll() was not woken within 1 s of the send";
  const auto [revents, sent_before_wake] = poller.get();
  EXPECT_TRUE(revents & POLLIN) << "revents " << revents;
  EXPECT_TRUE(sent_before_wake);
  EXPECT_THAT(ReadNow(reader.get()), IsPacket("wake up"));
}

TEST_F(WaitingTest, PollReportsPollInOnlyWhileAPacketIsQueued) {
  Fd writer = Join("net", O_WRONLY);
  Fd reader = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  pollfd entry{.fd = reader.get(), .events = POLLIN, .revents = 0};
  EXPECT_EQ(::poll(&entry, 1, 0), 0);
  ASSERT_THAT(Send(writer.get(), "x"), Wrote(1));
  EXPECT_EQ(::poll(&entry, 1, 0), 1);
  EXPECT_TRUE(entry.revents & POLLIN);
  ASSERT_THAT(ReadNow(reader.get()), IsPacket("x"));
  EXPECT_EQ(::poll(&entry, 1, 0), 0);
}

TEST_F(WaitingTest, PollAlwaysReportsPollOutOnASendingPort) {
  Fd sender = Join("net", O_WRONLY);
  Fd both = Join("net", O_RDWR);
  Fd full_reader = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  for (int round = 0; round < 2; ++round) {
    pollfd entries[2] = {{sender.get(), POLLOUT, 0}, {both.get(), POLLOUT, 0}};
    EXPECT_EQ(::poll(entries, 2, 1000), 2) << "round " << round;
    EXPECT_TRUE(entries[0].revents & POLLOUT) << "round " << round;
    EXPECT_TRUE(entries[1].revents & POLLOUT) << "round " << round;
    // Second round: with a receiver whose queue is full.
    for (int i = 0; i < 300; ++i) ASSERT_THAT(Send(sender.get(), "fill"), Wrote(4));
  }
}

TEST_F(WaitingTest, BlockingReadWaitsForThePacketSentLater) {
  Fd writer = Join("net", O_WRONLY);
  Fd reader = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  ReadInThread read(reader.get());
  ASSERT_TRUE(read.WaitUntilBlocked()) << "the reader never blocked in read()";
  EXPECT_FALSE(read.WaitFor(absl::Milliseconds(200)).has_value()) << "read() returned early";

  ASSERT_THAT(Send(writer.get(), "later"), Wrote(5));
  std::optional<IoResult> result = read.WaitFor(absl::Seconds(2));
  ASSERT_TRUE(result.has_value()) << "the parked read() was not answered within 2 s";
  EXPECT_THAT(*result, IsPacket("later"));
}

TEST_F(WaitingTest, TwoReadsBlockedOnOnePortGetOnePacketEach) {
  Fd writer = Join("net", O_WRONLY);
  Fd reader = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  ReadInThread first(reader.get());
  ReadInThread second(reader.get());
  ASSERT_TRUE(first.WaitUntilBlocked());
  ASSERT_TRUE(second.WaitUntilBlocked());

  ASSERT_THAT(Send(writer.get(), "a"), Wrote(1));
  ASSERT_THAT(Send(writer.get(), "b"), Wrote(1));
  std::optional<IoResult> one = first.WaitFor(absl::Seconds(2));
  std::optional<IoResult> two = second.WaitFor(absl::Seconds(2));
  ASSERT_TRUE(one.has_value() && two.has_value()) << "a parked read() was not answered";
  EXPECT_THAT((std::vector<std::string>{one->bytes, two->bytes}),
              ::testing::UnorderedElementsAre("a", "b"));
}

TEST_F(WaitingTest, SignalInterruptsABlockedReadWithEintrAndTheNextPacketGoesToTheNextRead) {
  Fd writer = Join("net", O_WRONLY);
  Fd reader = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  {
    ReadInThread read(reader.get());
    ASSERT_TRUE(read.WaitUntilBlocked());
    absl::SleepFor(absl::Milliseconds(50));  // Let the request reach the daemon.
    read.Interrupt();
    std::optional<IoResult> result = read.WaitFor(absl::Seconds(2));
    ASSERT_TRUE(result.has_value()) << "the signal did not end the blocked read() within 2 s";
    EXPECT_THAT(*result, FailsWith(EINTR));
  }
  ASSERT_THAT(Send(writer.get(), "next"), Wrote(4));
  EXPECT_THAT(Receive(reader.get()), IsPacket("next"));
  EXPECT_THAT(ReadNow(reader.get()), FailsWith(EAGAIN));
}

// Reads of one open file from two threads are serialized by the kernel (the file position lock of
// regular files), so the second read waits in the kernel until the first one returns.
TEST_F(WaitingTest, SignalToTheFirstOfTwoBlockedReadsLeavesTheSecondToGetThePacket) {
  Fd writer = Join("net", O_WRONLY);
  Fd reader = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  ReadInThread interrupted(reader.get());
  ASSERT_TRUE(interrupted.WaitUntilBlocked());
  absl::SleepFor(absl::Milliseconds(50));  // Let the request reach the daemon.
  ReadInThread kept(reader.get());
  ASSERT_TRUE(kept.WaitUntilBlocked());
  interrupted.Interrupt();
  std::optional<IoResult> result = interrupted.WaitFor(absl::Seconds(2));
  ASSERT_TRUE(result.has_value()) << "the signal did not end the blocked read() within 2 s";
  EXPECT_THAT(*result, FailsWith(EINTR));
  EXPECT_FALSE(kept.WaitFor(absl::Milliseconds(100)).has_value());

  ASSERT_THAT(Send(writer.get(), "for the other"), Wrote(13));
  std::optional<IoResult> other = kept.WaitFor(absl::Seconds(2));
  ASSERT_TRUE(other.has_value()) << "the remaining read() did not get the packet";
  EXPECT_THAT(*other, IsPacket("for the other"));
}

// The shell part: fd 3 of a shell is one port; a job reading from it is killed while blocked;
// a packet sent afterwards must wait in the port for the next job that reads fd 3.
constexpr char kKillBlockedReader[] = R"sh(
exec 3<net
cat <&3 &
reader=$!
# Wait until cat sleeps in read(2) (syscall 0) of its stdin (fd 0), the network.
until [ "$(cut -d' ' -f1,2 /proc/$reader/syscall 2>/dev/null)" = "0 0x0" ]; do sleep 0.01; done
sleep 0.05
kill -%s $reader
wait $reader
echo "reader exit: $?" >&2
echo packet > net
timeout 5 dd bs=65536 count=1 status=none <&3
)sh";

TEST_F(WaitingTest, ShellJobKilledWithSigtermWhileReadingLosesNoPacket) {
  ASSERT_EQ(Shell("touch net").exit_code, 0);
  CommandResult result = Shell(absl::StrFormat(kKillBlockedReader, "TERM"));
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "packet\n") << result;
  EXPECT_THAT(result.err, HasSubstr("reader exit: 143")) << result;
}

TEST_F(WaitingTest, ShellJobKilledWithSigkillWhileReadingLosesNoPacket) {
  ASSERT_EQ(Shell("touch net").exit_code, 0);
  CommandResult result = Shell(absl::StrFormat(kKillBlockedReader, "KILL"));
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "packet\n") << result;
  EXPECT_THAT(result.err, HasSubstr("reader exit: 137")) << result;
}

TEST_F(WaitingTest, ShellJobInterruptedWithSigintWhileReadingLosesNoPacket) {
  ASSERT_EQ(Shell("touch net").exit_code, 0);
  // A background job of a non-interactive shell ignores SIGINT: run the reader with SIGINT at
  // its default (python resets it to raise KeyboardInterrupt; exit code 130 comes from
  // re-raising).
  CommandResult result = Shell(R"sh(
exec 3<net
/usr/bin/python3 -c '
import os, signal
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.read(3, 65536)' &
reader=$!
until [ "$(cut -d' ' -f1,2 /proc/$reader/syscall 2>/dev/null)" = "0 0x3" ]; do sleep 0.01; done
sleep 0.05
kill -INT $reader
wait $reader
echo "reader exit: $?" >&2
echo packet > net
timeout 5 dd bs=65536 count=1 status=none <&3
)sh");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "packet\n") << result;
  EXPECT_THAT(result.err, HasSubstr("reader exit: 130")) << result;
}

}  // namespace
}  // namespace ipnfs::tests
