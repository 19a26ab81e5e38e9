// Integration tests at scale: a thousand reads parked on one network, each in its own thread on
// its own port, must neither slow the daemon down nor miss a packet.
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mounted_test.h"
#include "tests/port_io.h"

namespace ipnfs::tests {
namespace {

constexpr int kCrowd = 1000;
constexpr int kRoundTrips = 200;
constexpr size_t kQueueLength = 256;  // Packets a port holds for its reader, by default.
// Generous bounds: the daemon answers in microseconds; these catch work proportional to the
// number of parked reads (a scan, a thread each) or a stall, not a slow machine.
constexpr absl::Duration kMedianRoundTrip = absl::Milliseconds(5);
constexpr absl::Duration kPrompt = absl::Milliseconds(500);
// Within the crowd, every packet wakes all of its readers: fewer round trips, and a budget per
// packet handed to a parked reader.
constexpr int kCrowdedRoundTrips = 50;
constexpr absl::Duration kPerDelivery = absl::Microseconds(100);
// A ping-pong longer than this stops and fails (e.g. when poll() wakes only at its timeout).
constexpr absl::Duration kPingPongBudget = absl::Seconds(30);

// kCrowd ports on one network, each with a thread that reads packets in a loop and keeps them.
// Destroying it stops the threads: SIGUSR1 (no SA_RESTART) ends their blocked reads with EINTR.
class Crowd {
 public:
  // Opens the ports; false (with errno) if one cannot be opened.
  bool Join(const std::string& path) {
    for (int i = 0; i < kCrowd; ++i) {
      Fd fd = Open(path, O_RDONLY);
      if (!fd.valid()) return false;
      readers_.push_back(std::make_unique<Reader>(std::move(fd)));
    }
    InstallInterruptHandler();
    for (auto& reader : readers_) {
      reader->thread = std::thread([this, r = reader.get()] { ReadLoop(*r); });
    }
    return true;
  }

  ~Crowd() {
    stop_ = true;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    for (auto& reader : readers_) {
      if (!reader->thread.joinable()) continue;
      while (!reader->done && absl::Now() < deadline) {
        ::pthread_kill(reader->thread.native_handle(), SIGUSR1);
        absl::SleepFor(absl::Milliseconds(1));
      }
      if (reader->done) {
        reader->thread.join();
      } else {
        ADD_FAILURE() << "a reader of the crowd could not be interrupted";
        reader->thread.detach();
      }
    }
  }

  // Waits until every reader thread sleeps in read(); false at the deadline.
  bool WaitUntilAllBlocked(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    for (auto& reader : readers_) {
      while (reader->tid == 0 || !IsBlockedInRead(reader->tid)) {
        if (absl::Now() >= deadline) return false;
        absl::SleepFor(absl::Milliseconds(1));
      }
    }
    return true;
  }

  // Readers that received at least `count` packets.
  int ReadersWithAtLeast(size_t count) {
    int readers = 0;
    for (auto& reader : readers_) {
      absl::MutexLock lock(&reader->mu);
      if (reader->packets.size() >= count) ++readers;
    }
    return readers;
  }

  // Waits up to `timeout` until every reader received at least `count` packets.
  bool WaitUntilAllReceived(size_t count, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (ReadersWithAtLeast(count) < kCrowd) {
      if (absl::Now() >= deadline) return false;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return true;
  }

  // The packets reader `i` received so far, and the error that ended its loop (0: none yet).
  std::vector<std::string> PacketsOf(int i) {
    absl::MutexLock lock(&readers_[i]->mu);
    return readers_[i]->packets;
  }
  int ErrorOf(int i) {
    absl::MutexLock lock(&readers_[i]->mu);
    return readers_[i]->error;
  }

 private:
  struct Reader {
    explicit Reader(Fd port) : fd(std::move(port)) {}
    Fd fd;
    std::thread thread;
    std::atomic<pid_t> tid{0};
    std::atomic<bool> done{false};
    absl::Mutex mu;
    std::vector<std::string> packets ABSL_GUARDED_BY(mu);
    int error ABSL_GUARDED_BY(mu) = 0;
  };

  void ReadLoop(Reader& reader) {
    reader.tid = static_cast<pid_t>(::syscall(SYS_gettid));
    std::vector<char> buffer(kAnyPacket);
    while (!stop_) {
      const ssize_t n = ::read(reader.fd.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      absl::MutexLock lock(&reader.mu);
      if (n < 0) {
        reader.error = errno;
        break;
      }
      reader.packets.emplace_back(buffer.data(), static_cast<size_t>(n));
    }
    reader.done = true;
  }

  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<Reader>> readers_;
};

// Sends `round_trips` packets from `ping` to `pong`, which a thread echoes back; returns the round
// trip times, or fewer if a packet was lost (the test then fails).
std::vector<absl::Duration> PingPong(int ping, int pong, int round_trips) {
  std::atomic<bool> stop{false};
  std::thread echo([&] {
    while (!stop) {
      IoResult got = Receive(pong, absl::Milliseconds(100));
      if (got.error == ETIMEDOUT) continue;
      if (got.error != 0 || got.bytes.rfind("ping", 0) != 0) continue;  // Not a ping: skip it.
      Send(pong, "pong" + got.bytes.substr(4));
    }
  });
  std::vector<absl::Duration> times;
  const absl::Time first_start = absl::Now();
  for (int i = 0; i < round_trips; ++i) {
    const std::string suffix = absl::StrCat(" ", i);
    const absl::Time start = absl::Now();
    EXPECT_THAT(Send(ping, "ping" + suffix), Wrote(4 + suffix.size()));
    IoResult reply = Receive(ping, absl::Seconds(5));
    while (reply.error == 0 && reply.bytes != "pong" + suffix) reply = Receive(ping);
    if (reply.error != 0) {
      ADD_FAILURE() << "round trip " << i << ": no pong: " << ::testing::PrintToString(reply);
      break;
    }
    times.push_back(absl::Now() - start);
    if (absl::Now() - first_start > kPingPongBudget) {
      ADD_FAILURE() << "only " << times.size() << " round trips in " << kPingPongBudget;
      break;
    }
  }
  stop = true;
  echo.join();
  return times;
}

absl::Duration Median(std::vector<absl::Duration> times) {
  if (times.empty()) return absl::InfiniteDuration();
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

class ScaleTest : public MountedTest {
 protected:
  void SetUp() override {
    MountedTest::SetUp();
    if (HasFatalFailure()) return;
    rlimit files{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
    const rlim_t needed = kCrowd + 200;
    if (files.rlim_cur < needed) {
      files.rlim_cur = needed;
      files.rlim_max = std::max(files.rlim_max, needed);
      ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &files), 0) << std::strerror(errno);
    }
    Fd create = Open(PathOf("crowded"), O_RDWR | O_CREAT, 0666);
    ASSERT_TRUE(create.valid()) << std::strerror(errno);
    crowd_ = std::make_unique<Crowd>();
    ASSERT_TRUE(crowd_->Join(PathOf("crowded"))) << std::strerror(errno);
    ASSERT_TRUE(crowd_->WaitUntilAllBlocked(absl::Seconds(30)))
        << "not every reader blocked in read() within 30 s";
    absl::SleepFor(absl::Milliseconds(200));  // Let the last requests reach the daemon.
    ASSERT_EQ(crowd_->ReadersWithAtLeast(1), 0) << "a reader returned with nothing sent";
  }

  void TearDown() override {
    crowd_.reset();  // Before the daemon stops: the readers must end by interruption.
    MountedTest::TearDown();
  }

  std::unique_ptr<Crowd> crowd_;
};

TEST_F(ScaleTest, ThousandParkedReadersDoNotSlowDownAnotherNetwork) {
  Fd ping = Open(PathOf("quiet"), O_RDWR | O_CREAT, 0666);
  Fd pong = Open(PathOf("quiet"), O_RDWR);
  ASSERT_TRUE(ping.valid() && pong.valid()) << std::strerror(errno);
  const std::vector<absl::Duration> times = PingPong(ping.get(), pong.get(), kRoundTrips);
  EXPECT_EQ(times.size(), static_cast<size_t>(kRoundTrips));
  std::cerr << "median round trip beside the crowd: " << Median(times) << "\n";
  EXPECT_LT(Median(times), kMedianRoundTrip);

  absl::Time start = absl::Now();
  struct stat st;
  ASSERT_EQ(::stat(PathOf("crowded").c_str(), &st), 0);
  EXPECT_LT(absl::Now() - start, kPrompt) << "stat of the crowded network";
  CommandResult ls = Shell("ls");
  EXPECT_EQ(ls.out, "crowded\nquiet\n") << ls;
  EXPECT_LT(ls.elapsed, kPrompt) << ls;
  EXPECT_EQ(crowd_->ReadersWithAtLeast(1), 0) << "packets of another network reached the crowd";
}

TEST_F(ScaleTest, PacketSentToThousandParkedReadersReachesEachOnce) {
  Fd writer = Open(PathOf("crowded"), O_WRONLY);
  ASSERT_TRUE(writer.valid()) << std::strerror(errno);
  ASSERT_THAT(Send(writer.get(), "to everyone"), Wrote(11));
  EXPECT_TRUE(crowd_->WaitUntilAllReceived(1, absl::Seconds(10)))
      << crowd_->ReadersWithAtLeast(1) << " of " << kCrowd << " readers got the packet";
  absl::SleepFor(absl::Milliseconds(100));  // Room for a duplicate to show.
  for (int i = 0; i < kCrowd; ++i) {
    ASSERT_THAT(crowd_->PacketsOf(i), ::testing::ElementsAre("to everyone")) << "reader " << i;
    ASSERT_EQ(crowd_->ErrorOf(i), 0) << "reader " << i;
  }
}

TEST_F(ScaleTest, PairOnANetworkWithThousandParkedReadersStillExchangesPackets) {
  Fd ping = Open(PathOf("crowded"), O_RDWR);
  Fd pong = Open(PathOf("crowded"), O_RDWR);
  ASSERT_TRUE(ping.valid() && pong.valid()) << std::strerror(errno);
  const std::vector<absl::Duration> times = PingPong(ping.get(), pong.get(), kCrowdedRoundTrips);
  EXPECT_EQ(times.size(), static_cast<size_t>(kCrowdedRoundTrips));
  std::cerr << "median round trip within the crowd: " << Median(times) << "\n";
  // Each round trip also hands two packets to each of the thousand readers, which wake up (on
  // this machine's few CPUs) and read again: allow for that work, not for a stall.
  EXPECT_LT(Median(times), 2 * kCrowd * kPerDelivery);
  // 100 packets fit in every reader's queue (256): each reader gets them all, in order.
  static_assert(2 * kCrowdedRoundTrips <= kQueueLength);
  std::vector<std::string> sent;
  for (int i = 0; i < kCrowdedRoundTrips; ++i) {
    sent.push_back(absl::StrCat("ping ", i));
    sent.push_back(absl::StrCat("pong ", i));
  }
  EXPECT_TRUE(crowd_->WaitUntilAllReceived(sent.size(), absl::Seconds(30)))
      << crowd_->ReadersWithAtLeast(sent.size()) << " of " << kCrowd
      << " readers got every ping and pong";
  for (int i = 0; i < kCrowd; ++i) {
    ASSERT_THAT(crowd_->PacketsOf(i), ::testing::ElementsAreArray(sent)) << "reader " << i;
  }
}

}  // namespace
}  // namespace ipnfs::tests
