// Integration tests of lossless flow control (user.ipn.flow=block): a writer waits while a
// receiver's queue is full, gets EAGAIN instead with O_NONBLOCK and POLLOUT once there is room,
// stops waiting for a reader that has not read for user.ipn.stall_ms, and can be interrupted; the
// same for an anycast work queue (waiting for any worker with room) and for framed writes.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipnfs/ipnfs_ioctl.h"
#include "tests/features/feature_support.h"
#include "tests/mounted_test.h"
#include "tests/port_io.h"

namespace ipnfs::tests {
namespace {

class FlowControlTest : public MountedTest {
 protected:
  // Creates a lossless network "net" with `qlen` and `stall_ms`.
  void MakeLosslessNetwork(int qlen, int stall_ms) {
    ASSERT_EQ(::mknod(PathOf("net").c_str(), S_IFREG | 0666, 0), 0);
    ASSERT_EQ(SetXattr(PathOf("net"), "user.ipn.flow", "block"), 0);
    ASSERT_EQ(SetXattr(PathOf("net"), "user.ipn.qlen", std::to_string(qlen)), 0);
    ASSERT_EQ(SetXattr(PathOf("net"), "user.ipn.stall_ms", std::to_string(stall_ms)), 0);
  }

  // Opens "net" with `flags` and switches the port to framed I/O (IPNFS_IOC_FRAMED).
  Fd OpenFramed(int flags) {
    Fd fd = Open(PathOf("net"), flags);
    const int on = 1;
    EXPECT_EQ(::ioctl(fd.get(), IPNFS_IOC_FRAMED, &on), 0) << std::strerror(errno);
    return fd;
  }

  // Expects poll() on `writer` to report no POLLOUT for 300 ms, and POLLOUT within 2 s once
  // `make_room` has run.
  void ExpectPollOutOnlyAfter(int writer, const std::function<void()>& make_room) {
    std::future<int> poller = std::async(std::launch::async, [writer] {
      pollfd entry{.fd = writer, .events = POLLOUT, .revents = 0};
      return ::poll(&entry, 1, /*timeout_ms=*/5000) > 0 ? entry.revents : 0;
    });
    ASSERT_EQ(poller.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout)
        << "POLLOUT while a write would wait";
    make_room();
    ASSERT_EQ(poller.wait_for(std::chrono::seconds(2)), std::future_status::ready)
        << "poll() was not woken within 2 s of making room";
    EXPECT_TRUE(poller.get() & POLLOUT);
  }

  // Writes `packet` to `fd` in its own thread and expects the write to wait (300 ms at least);
  // then runs `make_room` and returns what the write returned within 3 s. Nullopt, and a failure,
  // when it did not wait or still waits.
  std::optional<IoResult> WriteThatWaitsUntil(int fd, std::string packet,
                                              const std::function<void()>& make_room) {
    WriteInThread write(fd, std::move(packet));
    if (!write.WaitUntilBlocked() || write.WaitFor(absl::Milliseconds(300)).has_value()) {
      ADD_FAILURE() << "the write did not wait";
      return std::nullopt;
    }
    make_room();
    std::optional<IoResult> result = write.WaitFor(absl::Seconds(3));
    if (!result.has_value()) ADD_FAILURE() << "the write still waits after room was made";
    return result;
  }

  // Waits up to `timeout` for `task`; when it hangs, kills the daemon so that the blocked calls
  // return and the test fails instead of hanging.
  template <typename T>
  T Finish(std::future<T>& task, absl::Duration timeout) {
    if (task.wait_for(absl::ToChronoMilliseconds(timeout)) != std::future_status::ready) {
      ADD_FAILURE() << "still blocked after " << timeout << "; killing the daemon";
      daemon().Stop(SIGKILL);
    }
    return task.get();
  }
};

TEST_F(FlowControlTest, SlowReaderGetsEveryPacketInOrderFromABlockingWriter) {
  MakeLosslessNetwork(/*qlen=*/4, /*stall_ms=*/1000);
  Fd writer = Open(PathOf("net"), O_WRONLY);
  Fd reader = Open(PathOf("net"), O_RDONLY);
  ASSERT_TRUE(writer.valid() && reader.valid());
  std::future<int> writes = std::async(std::launch::async, [&] {
    for (int i = 0; i < 200; ++i) {
      if (Send(writer.get(), absl::StrCat("packet ", i)).error != 0) return i;
    }
    return 200;
  });
  std::vector<std::string> received;
  for (int i = 0; i < 200; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    IoResult result = Receive(reader.get(), absl::Seconds(5));
    if (result.error != 0) {
      ADD_FAILURE() << "read " << i << " failed: " << std::strerror(result.error);
      break;
    }
    received.push_back(result.bytes);
  }
  EXPECT_EQ(Finish(writes, absl::Seconds(5)), 200) << "writes that succeeded";
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) expected.push_back(absl::StrCat("packet ", i));
  EXPECT_EQ(received, expected);
  EXPECT_EQ(StatsOf(PathOf("net"))["drops_queue_full"], 0);
}

TEST_F(FlowControlTest, NonBlockingWriterGetsEagainWhenAReceiverIsFull) {
  MakeLosslessNetwork(/*qlen=*/2, /*stall_ms=*/60000);
  Fd writer = Open(PathOf("net"), O_WRONLY | O_NONBLOCK);
  Fd reader = Open(PathOf("net"), O_RDONLY);
  ASSERT_THAT(Send(writer.get(), "one"), Wrote(3));
  ASSERT_THAT(Send(writer.get(), "two"), Wrote(3));
  EXPECT_THAT(Send(writer.get(), "three"), FailsWith(EAGAIN));
  EXPECT_THAT(ReadNow(reader.get()), IsPacket("one"));
  EXPECT_THAT(ReadNow(reader.get()), IsPacket("two"));
  EXPECT_THAT(ReadNow(reader.get()), FailsWith(EAGAIN)) << "the refused packet was sent";
  EXPECT_EQ(StatsOf(PathOf("net"))["drops_queue_full"], 0);
}

TEST_F(FlowControlTest, PollOutWakesANonBlockingWriterWhenTheReaderReads) {
  MakeLosslessNetwork(/*qlen=*/2, /*stall_ms=*/60000);
  Fd writer = Open(PathOf("net"), O_WRONLY | O_NONBLOCK);
  Fd reader = Open(PathOf("net"), O_RDONLY);
  ASSERT_THAT(Send(writer.get(), "one"), Wrote(3));
  ASSERT_THAT(Send(writer.get(), "two"), Wrote(3));
  ASSERT_THAT(Send(writer.get(), "three"), FailsWith(EAGAIN));
  ExpectPollOutOnlyAfter(writer.get(),
                         [&] { EXPECT_THAT(ReadNow(reader.get()), IsPacket("one")); });
  EXPECT_THAT(Send(writer.get(), "three"), Wrote(5));
}

TEST_F(FlowControlTest, StuckReaderHoldsABlockedWriteForStallMsThenLosesThePacket) {
  MakeLosslessNetwork(/*qlen=*/4, /*stall_ms=*/300);
  Fd writer = Open(PathOf("net"), O_WRONLY);
  JoinedPort stuck = JoinPort(PathOf("net"), O_RDONLY);
  for (int i = 0; i < 4; ++i) ASSERT_THAT(Send(writer.get(), absl::StrCat("fill ", i)), Wrote(6));
  const absl::Time start = absl::Now();
  WriteInThread blocked(writer.get(), "late");
  std::optional<IoResult> result = blocked.WaitFor(absl::Seconds(3));
  const absl::Duration waited = absl::Now() - start;
  ASSERT_TRUE(result.has_value()) << "the write still blocks after 3 s";
  EXPECT_THAT(*result, Wrote(4));
  EXPECT_GE(waited, absl::Milliseconds(250));
  EXPECT_LE(waited, absl::Seconds(2));
  std::optional<PortLine> line = PortLineOf(PathOf("net"), stuck.id);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ((*line)["dropped"], "1");
  EXPECT_EQ((*line)["queued"], "4");
  EXPECT_EQ(StatsOf(PathOf("net"))["drops_queue_full"], 1);
}

TEST_F(FlowControlTest, StalledReaderDoesNotHoldBackLaterWritesOrOtherReaders) {
  MakeLosslessNetwork(/*qlen=*/4, /*stall_ms=*/300);
  Fd writer = Open(PathOf("net"), O_WRONLY);
  Fd stuck = Open(PathOf("net"), O_RDONLY);
  Fd live = Open(PathOf("net"), O_RDONLY);
  for (int i = 0; i < 4; ++i) ASSERT_THAT(Send(writer.get(), absl::StrCat("fill ", i)), Wrote(6));
  for (int i = 0; i < 4; ++i) ASSERT_THAT(ReadNow(live.get()), IsPacket(absl::StrCat("fill ", i)));
  WriteInThread first(writer.get(), "first");
  ASSERT_TRUE(first.WaitFor(absl::Seconds(3)).has_value()) << "still held back after 3 s";
  ASSERT_THAT(ReadNow(live.get()), IsPacket("first"));
  // The stuck reader is now lossy: twenty more packets pass at once (none waits anything like
  // stall_ms), and the reader that reads loses none of them.
  std::future<absl::Duration> writes = std::async(std::launch::async, [&] {
    absl::Duration longest;
    for (int i = 0; i < 20; ++i) {
      const absl::Time start = absl::Now();
      if (Send(writer.get(), absl::StrCat("more ", i)).error != 0) return absl::InfiniteDuration();
      longest = std::max(longest, absl::Now() - start);
      if (ReadNow(live.get()).bytes != absl::StrCat("more ", i)) return absl::InfiniteDuration();
    }
    return longest;
  });
  EXPECT_LT(Finish(writes, absl::Seconds(5)), absl::Milliseconds(200))
      << "the longest write (infinite: a write failed or the live reader lost a packet)";
}

TEST_F(FlowControlTest, InterruptedBlockedWriteFailsWithEintrAndSendsNothing) {
  MakeLosslessNetwork(/*qlen=*/2, /*stall_ms=*/60000);
  Fd writer = Open(PathOf("net"), O_WRONLY);
  Fd reader = Open(PathOf("net"), O_RDONLY);
  ASSERT_THAT(Send(writer.get(), "one"), Wrote(3));
  ASSERT_THAT(Send(writer.get(), "two"), Wrote(3));
  WriteInThread blocked(writer.get(), "interrupted");
  ASSERT_TRUE(blocked.WaitUntilBlocked()) << "the write did not block";
  absl::SleepFor(absl::Milliseconds(50));
  blocked.Interrupt();
  std::optional<IoResult> result = blocked.WaitFor(absl::Seconds(5));
  ASSERT_TRUE(result.has_value()) << "the interrupted write still blocks";
  EXPECT_THAT(*result, FailsWith(EINTR));
  EXPECT_THAT(ReadNow(reader.get()), IsPacket("one"));
  EXPECT_THAT(ReadNow(reader.get()), IsPacket("two"));
  EXPECT_THAT(Receive(reader.get(), absl::Milliseconds(300)), FailsWith(ETIMEDOUT))
      << "the interrupted packet was sent";
  EXPECT_EQ(StatsOf(PathOf("net"))["packets_sent"], 2);
}

// One frame of framed I/O: the 2-byte big-endian length, then `packet`.
std::string Frame(absl::string_view packet) {
  const char header[] = {static_cast<char>(packet.size() >> 8), static_cast<char>(packet.size())};
  return absl::StrCat(absl::string_view(header, sizeof(header)), packet);
}

TEST_F(FlowControlTest, AnycastBlockingProducerWaitsForAWorkerWithRoomInsteadOfDropping) {
  MakeLosslessNetwork(/*qlen=*/1, /*stall_ms=*/60000);
  ASSERT_EQ(SetXattr(PathOf("net"), "user.ipn.policy", "anycast"), 0);
  Fd producer = Open(PathOf("net"), O_WRONLY);
  Fd first = Open(PathOf("net"), O_RDONLY);
  Fd second = Open(PathOf("net"), O_RDONLY);
  ASSERT_THAT(Send(producer.get(), "job 0"), Wrote(5));
  ASSERT_THAT(Send(producer.get(), "job 1"), Wrote(5));
  std::optional<IoResult> result = WriteThatWaitsUntil(
      producer.get(), "job 2", [&] { EXPECT_THAT(ReadNow(second.get()), IsPacket("job 1")); });
  ASSERT_TRUE(result.has_value());
  EXPECT_THAT(*result, Wrote(5));
  EXPECT_THAT(ReadNow(second.get()), IsPacket("job 2")) << "the worker with room gets the job";
  EXPECT_THAT(ReadNow(first.get()), IsPacket("job 0"));
  EXPECT_THAT(ReadNow(first.get()), FailsWith(EAGAIN));
  EXPECT_EQ(StatsOf(PathOf("net"))["anycast_no_room"], 0);
}

TEST_F(FlowControlTest, AnycastNonBlockingProducerGetsEagainThenPollOutWhenAWorkerReads) {
  MakeLosslessNetwork(/*qlen=*/1, /*stall_ms=*/60000);
  ASSERT_EQ(SetXattr(PathOf("net"), "user.ipn.policy", "anycast"), 0);
  Fd producer = Open(PathOf("net"), O_WRONLY | O_NONBLOCK);
  Fd first = Open(PathOf("net"), O_RDONLY);
  Fd second = Open(PathOf("net"), O_RDONLY);
  ASSERT_THAT(Send(producer.get(), "job 0"), Wrote(5));
  ASSERT_THAT(Send(producer.get(), "job 1"), Wrote(5));
  ASSERT_THAT(Send(producer.get(), "job 2"), FailsWith(EAGAIN));
  // Room in one worker is enough; the second stays full.
  ExpectPollOutOnlyAfter(producer.get(),
                         [&] { EXPECT_THAT(ReadNow(first.get()), IsPacket("job 0")); });
  EXPECT_THAT(Send(producer.get(), "job 2"), Wrote(5));
  EXPECT_THAT(ReadNow(first.get()), IsPacket("job 2"));
  EXPECT_EQ(StatsOf(PathOf("net"))["anycast_no_room"], 0);
}

TEST_F(FlowControlTest, AnycastWorkQueueLosesNoJobToWorkersSlowerThanTheProducer) {
  MakeLosslessNetwork(/*qlen=*/2, /*stall_ms=*/60000);
  ASSERT_EQ(SetXattr(PathOf("net"), "user.ipn.policy", "anycast"), 0);
  constexpr int kJobs = 60;
  Fd producer = Open(PathOf("net"), O_WRONLY);
  std::vector<Fd> workers;
  for (int i = 0; i < 3; ++i) workers.push_back(Open(PathOf("net"), O_RDONLY));
  std::future<int> writes = std::async(std::launch::async, [&] {
    for (int job = 0; job < kJobs; ++job) {
      if (Send(producer.get(), absl::StrCat("job ", job)).error != 0) return job;
    }
    return kJobs;
  });
  std::vector<std::future<std::vector<std::string>>> reads;
  for (Fd& worker : workers) {
    reads.push_back(std::async(std::launch::async, [fd = worker.get()] {
      std::vector<std::string> jobs;
      for (IoResult result = Receive(fd, absl::Seconds(1)); result.error == 0;
           result = Receive(fd, absl::Seconds(1))) {
        jobs.push_back(result.bytes);
        absl::SleepFor(absl::Milliseconds(5));  // Works on the job.
      }
      return jobs;
    }));
  }
  EXPECT_EQ(Finish(writes, absl::Seconds(10)), kJobs) << "writes that succeeded";
  std::multiset<std::string> done;
  for (auto& read : reads) {
    for (std::string& job : Finish(read, absl::Seconds(10))) done.insert(std::move(job));
  }
  std::multiset<std::string> expected;
  for (int job = 0; job < kJobs; ++job) expected.insert(absl::StrCat("job ", job));
  EXPECT_EQ(done, expected);
  EXPECT_EQ(StatsOf(PathOf("net"))["anycast_no_room"], 0);
}

TEST_F(FlowControlTest, BlockingFramedWriteWaitsForRoomThenSendsItsFirstFrame) {
  MakeLosslessNetwork(/*qlen=*/1, /*stall_ms=*/60000);
  Fd writer = OpenFramed(O_WRONLY);
  Fd reader = Open(PathOf("net"), O_RDONLY);
  ASSERT_THAT(Send(writer.get(), Frame("one")), Wrote(5));
  std::optional<IoResult> result =
      WriteThatWaitsUntil(writer.get(), Frame("two") + Frame("three"),
                          [&] { EXPECT_THAT(ReadNow(reader.get()), IsPacket("one")); });
  ASSERT_TRUE(result.has_value());
  EXPECT_THAT(*result, Wrote(5)) << "a short write: the first frame alone";
  EXPECT_THAT(ReadNow(reader.get()), IsPacket("two"));
  EXPECT_THAT(ReadNow(reader.get()), FailsWith(EAGAIN)) << "a frame beyond the reply was sent";
}

TEST_F(FlowControlTest, NonBlockingFramedWriteGetsEagainWhenTheReceiverIsFull) {
  MakeLosslessNetwork(/*qlen=*/1, /*stall_ms=*/60000);
  Fd writer = OpenFramed(O_WRONLY | O_NONBLOCK);
  Fd reader = Open(PathOf("net"), O_RDONLY);
  ASSERT_THAT(Send(writer.get(), Frame("one")), Wrote(5));
  EXPECT_THAT(Send(writer.get(), Frame("two")), FailsWith(EAGAIN));
  EXPECT_THAT(ReadNow(reader.get()), IsPacket("one"));
  EXPECT_THAT(ReadNow(reader.get()), FailsWith(EAGAIN)) << "the refused frame was sent";
}

TEST_F(FlowControlTest, InterruptedBlockedFramedWriteFailsWithEintrAndSendsNothing) {
  MakeLosslessNetwork(/*qlen=*/1, /*stall_ms=*/60000);
  Fd writer = OpenFramed(O_WRONLY);
  Fd reader = Open(PathOf("net"), O_RDONLY);
  ASSERT_THAT(Send(writer.get(), Frame("one")), Wrote(5));
  WriteInThread blocked(writer.get(), Frame("interrupted"));
  ASSERT_TRUE(blocked.WaitUntilBlocked()) << "the framed write did not wait";
  absl::SleepFor(absl::Milliseconds(50));
  blocked.Interrupt();
  std::optional<IoResult> result = blocked.WaitFor(absl::Seconds(5));
  ASSERT_TRUE(result.has_value()) << "the interrupted framed write still waits";
  EXPECT_THAT(*result, FailsWith(EINTR));
  EXPECT_THAT(ReadNow(reader.get()), IsPacket("one"));
  EXPECT_THAT(Receive(reader.get(), absl::Milliseconds(300)), FailsWith(ETIMEDOUT))
      << "the interrupted frame was sent";
}

}  // namespace
}  // namespace ipnfs::tests
