// Integration tests of the daemon's life: it unmounts and exits 0 on SIGTERM, SIGINT or an
// external unmount, and refuses to start, fast and with one line on stderr, when it cannot mount.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "fs/fuse_uring.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mounted_daemon.h"
#include "tests/port_io.h"
#include "tests/temp_dir.h"

namespace ipnfs::tests {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

// What start-up errors look like: exactly one line, "ipnfs: <reason>".
const char kOneLine[] = "ipnfs: [^\n]+\n";
constexpr absl::Duration kFast = absl::Seconds(5);

std::unique_ptr<MountedDaemon> StartDaemon() {
  absl::StatusOr<std::unique_ptr<MountedDaemon>> daemon = MountedDaemon::Start();
  EXPECT_TRUE(daemon.ok()) << daemon.status();
  return daemon.ok() ? *std::move(daemon) : nullptr;
}

TEST(DaemonTest, SigtermUnmountsAndExitsWithStatusZero) {
  std::unique_ptr<MountedDaemon> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  ASSERT_TRUE(IsMounted(daemon->path()));
  EXPECT_EQ(daemon->Stop(SIGTERM), 0) << daemon->StderrText();
  EXPECT_FALSE(IsMounted(daemon->path()));
}

TEST(DaemonTest, SigintUnmountsAndExitsWithStatusZero) {
  std::unique_ptr<MountedDaemon> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  EXPECT_EQ(daemon->Stop(SIGINT), 0) << daemon->StderrText();
  EXPECT_FALSE(IsMounted(daemon->path()));
}

TEST(DaemonTest, ExternalUnmountMakesTheDaemonExitWithStatusZero) {
  std::unique_ptr<MountedDaemon> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  CommandResult unmount = RunCommand({"/usr/bin/fusermount3", "-u", daemon->path()});
  ASSERT_EQ(unmount.exit_code, 0) << unmount;
  std::optional<int> code = daemon->WaitForExit(absl::Seconds(10));
  ASSERT_TRUE(code.has_value()) << "the daemon still runs 10 s after fusermount3 -u";
  EXPECT_EQ(*code, 0) << daemon->StderrText();
  EXPECT_FALSE(IsMounted(daemon->path()));
}

TEST(DaemonTest, SigtermWithAReadBlockedEndsTheReadAndExitsWithStatusZero) {
  std::unique_ptr<MountedDaemon> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  Fd reader = Open(daemon->PathOf("net"), O_RDONLY | O_CREAT, 0644);
  ASSERT_TRUE(reader.valid()) << std::strerror(errno);
  ReadInThread read(reader.get());
  ASSERT_TRUE(read.WaitUntilBlocked());
  absl::SleepFor(absl::Milliseconds(50));  // Let the request reach the daemon.

  EXPECT_EQ(daemon->Stop(SIGTERM), 0) << daemon->StderrText();
  EXPECT_FALSE(IsMounted(daemon->path()));
  std::optional<IoResult> result = read.WaitFor(absl::Seconds(5));
  ASSERT_TRUE(result.has_value()) << "the read() still blocks after the daemon exited";
  EXPECT_NE(result->error, 0) << "a read() ended by the shutdown returned data";
}

// A user pressing Ctrl-C repeatedly, or several supervisors signalling: the shutdown that the
// first signal started must still unmount. Parked reads make the shutdown take a while.
TEST(DaemonTest, FurtherSigtermsDuringShutdownDoNotPreventTheUnmount) {
  std::unique_ptr<MountedDaemon> daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  constexpr int kReaders = 500;
  std::vector<Fd> ports;
  std::vector<std::unique_ptr<ReadInThread>> reads;
  for (int i = 0; i < kReaders; ++i) {
    ports.push_back(Open(daemon->PathOf("net"), O_RDONLY | O_CREAT, 0644));
    ASSERT_TRUE(ports.back().valid()) << std::strerror(errno);
    reads.push_back(std::make_unique<ReadInThread>(ports.back().get()));
  }
  for (auto& read : reads) ASSERT_TRUE(read->WaitUntilBlocked());

  // Signal until the daemon has exited (it stays a zombie until reaped, so its pid stays ours).
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::optional<int> code;
  while (!code.has_value() && absl::Now() < deadline) {
    ::kill(daemon->pid(), SIGTERM);
    code = daemon->WaitForExit(absl::ZeroDuration());
  }
  ASSERT_TRUE(code.has_value()) << "the daemon still runs after 10 s of SIGTERMs";
  EXPECT_EQ(*code, 0) << daemon->StderrText();
  EXPECT_FALSE(IsMounted(daemon->path()));
}

// The threads of `pid` that do not block SIGTERM, by thread id: a SIGTERM sent to the process
// may be delivered to any of them.
std::vector<pid_t> ThreadsAcceptingSigterm(pid_t pid) {
  std::vector<pid_t> threads;
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  for (const auto& entry : std::filesystem::directory_iterator(tasks)) {
    std::ifstream status(entry.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("SigBlk:", 0) != 0) continue;
      const uint64_t blocked = std::stoull(line.substr(7), nullptr, 16);
      if ((blocked & (uint64_t{1} << (SIGTERM - 1))) == 0) {
        threads.push_back(std::stoi(entry.path().filename().string()));
      }
    }
  }
  std::sort(threads.begin(), threads.end());
  return threads;
}

TEST(DaemonTest, SigtermStopsTheDaemonWhicheverThreadItIsDeliveredTo) {
  for (size_t i = 0;; ++i) {
    std::unique_ptr<MountedDaemon> daemon = StartDaemon();
    ASSERT_NE(daemon, nullptr);
    absl::SleepFor(absl::Milliseconds(100));  // Let the daemon start its threads.
    const std::vector<pid_t> threads = ThreadsAcceptingSigterm(daemon->pid());
    ASSERT_FALSE(threads.empty());
    if (i >= threads.size()) break;
    ASSERT_EQ(::syscall(SYS_tgkill, daemon->pid(), threads[i], SIGTERM), 0);
    std::optional<int> code = daemon->WaitForExit(absl::Seconds(5));
    EXPECT_TRUE(code.has_value()) << "the daemon still runs 5 s after a SIGTERM delivered to its "
                                  << "thread #" << i << " of " << threads.size()
                                  << " that accept SIGTERM (by thread id)";
    if (code.has_value()) {
      EXPECT_EQ(*code, 0) << daemon->StderrText();
    }
  }
}

TEST(DaemonTest, MissingMountPointFailsFastWithOneLine) {
  TempDir dir;
  const std::string missing = dir.path() + "/missing";
  CommandResult result = RunDaemonToExit({missing});
  EXPECT_EQ(result.exit_code, 1) << result;
  EXPECT_LT(result.elapsed, kFast) << result;
  EXPECT_THAT(result.err,
              AllOf(MatchesRegex(kOneLine), HasSubstr(missing), HasSubstr("does not exist")))
      << result;
}

TEST(DaemonTest, MountPointThatIsARegularFileFailsFastWithOneLine) {
  TempDir dir;
  const std::string file = dir.path() + "/file";
  ASSERT_EQ(RunCommand({"/usr/bin/touch", file}).exit_code, 0);
  CommandResult result = RunDaemonToExit({file});
  EXPECT_EQ(result.exit_code, 1) << result;
  EXPECT_LT(result.elapsed, kFast) << result;
  EXPECT_THAT(result.err,
              AllOf(MatchesRegex(kOneLine), HasSubstr(file), HasSubstr("not a directory")))
      << result;
}

TEST(DaemonTest, MountPointAlreadyMountedFailsFastWithOneLineAndLeavesTheMountAlone) {
  std::unique_ptr<MountedDaemon> first = StartDaemon();
  ASSERT_NE(first, nullptr);
  CommandResult result = RunDaemonToExit({first->path()});
  EXPECT_EQ(result.exit_code, 1) << result;
  EXPECT_LT(result.elapsed, kFast) << result;
  EXPECT_THAT(result.err,
              AllOf(MatchesRegex(kOneLine), HasSubstr(first->path()), HasSubstr("already mounted")))
      << result;

  CommandResult still_works = first->RunShell(R"sh(
touch net && exec 3<net
echo alive > net
timeout 5 dd bs=65536 count=1 status=none <&3
)sh");
  EXPECT_EQ(still_works.out, "alive\n") << still_works;
  EXPECT_EQ(first->Stop(), 0) << first->StderrText();
}

TEST(DaemonTest, MissingDevFuseFailsFastWithOneLine) {
  TempDir dir;
  // A private mount namespace where /dev is an empty tmpfs.
  DaemonOptions options;
  options.launcher = {
      "/usr/bin/unshare", "-m", "/bin/sh", "-c", "mount -t tmpfs none /dev && exec \"$@\"", "sh"};
  CommandResult result = RunDaemonToExit({dir.path()}, options);
  EXPECT_EQ(result.exit_code, 1) << result;
  EXPECT_LT(result.elapsed, kFast) << result;
  EXPECT_THAT(result.err, AllOf(MatchesRegex(kOneLine), HasSubstr("/dev/fuse"))) << result;
  EXPECT_FALSE(IsMounted(dir.path()));
}

TEST(DaemonTest, NoMountPointArgumentFailsFastWithOneLine) {
  CommandResult result = RunDaemonToExit({});
  EXPECT_EQ(result.exit_code, 1) << result;
  EXPECT_LT(result.elapsed, kFast) << result;
  EXPECT_THAT(result.err, AllOf(MatchesRegex(kOneLine), HasSubstr("MOUNTPOINT"))) << result;
}

}  // namespace
}  // namespace ipnfs::tests

namespace ipnfs::tests {
namespace {

// The names of `pid`'s threads.
std::vector<std::string> ThreadNames(pid_t pid) {
  std::vector<std::string> names;
  for (const auto& task :
       std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"))) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) names.push_back(name);
  }
  return names;
}

// Sends one packet between two ports of a fresh network of `daemon`; what the second received.
IoResult RoundTrip(MountedDaemon& daemon) {
  Fd in = Open(daemon.PathOf("net"), O_RDWR | O_CREAT, 0666);
  Fd out = Open(daemon.PathOf("net"), O_RDWR);
  if (!in.valid() || !out.valid()) {
    IoResult failed;
    failed.error = errno;
    return failed;
  }
  IoResult sent = Send(in.get(), "over the ring");
  if (sent.error != 0) return sent;
  return Receive(out.get());
}

std::unique_ptr<MountedDaemon> StartDaemonWith(std::vector<std::string> flags) {
  DaemonOptions options;
  options.flags = std::move(flags);
  absl::StatusOr<std::unique_ptr<MountedDaemon>> daemon = MountedDaemon::Start(options);
  EXPECT_TRUE(daemon.ok()) << daemon.status();
  return daemon.ok() ? *std::move(daemon) : nullptr;
}

TEST(FuseUringTest, OnServesRequestsFromOneRingThreadPerCpu) {
  std::unique_ptr<MountedDaemon> daemon = StartDaemonWith({"--fuse_uring=on"});
  ASSERT_NE(daemon, nullptr);
  EXPECT_EQ(RoundTrip(*daemon).bytes, "over the ring");
  const int cpus = PossibleCpuCount();  // Unit-tested in //fs:fuse_uring_test.
  EXPECT_THAT(daemon->StderrText(),
              HasSubstr(absl::StrCat("FUSE requests through io_uring: ", cpus, " queues")));
  std::ifstream parameter("/sys/module/fuse/parameters/enable_uring");
  std::string enabled;
  std::getline(parameter, enabled);
  EXPECT_EQ(enabled, "Y") << "--fuse_uring=on turns the kernel's switch on";
  const std::vector<std::string> threads = ThreadNames(daemon->pid());
  for (int cpu = 0; cpu < cpus; ++cpu) {
    EXPECT_THAT(threads, ::testing::Contains(absl::StrCat("ipnfs-uring-", cpu)));
  }
  EXPECT_EQ(daemon->Stop(), 0) << daemon->StderrText();
}

TEST(FuseUringTest, OffKeepsToDevFuseEvenWhenTheKernelOffersIoUring) {
  std::unique_ptr<MountedDaemon> first = StartDaemonWith({"--fuse_uring=on"});  // Kernel: on.
  ASSERT_NE(first, nullptr);
  std::unique_ptr<MountedDaemon> daemon = StartDaemonWith({"--fuse_uring=off"});
  ASSERT_NE(daemon, nullptr);
  EXPECT_EQ(RoundTrip(*daemon).bytes, "over the ring");
  EXPECT_THAT(daemon->StderrText(), Not(HasSubstr("io_uring")));
  EXPECT_THAT(ThreadNames(daemon->pid()), Not(Contains(HasSubstr("ipnfs-uring"))));
  EXPECT_EQ(daemon->Stop(), 0) << daemon->StderrText();
}

TEST(FuseUringTest, AutoUsesIoUringWhenTheKernelOffersIt) {
  std::unique_ptr<MountedDaemon> first = StartDaemonWith({"--fuse_uring=on"});  // Kernel: on.
  ASSERT_NE(first, nullptr);
  std::unique_ptr<MountedDaemon> daemon = StartDaemonWith({"--fuse_uring=auto"});
  ASSERT_NE(daemon, nullptr);
  EXPECT_EQ(RoundTrip(*daemon).bytes, "over the ring");
  EXPECT_THAT(daemon->StderrText(), HasSubstr("FUSE requests through io_uring"));
  EXPECT_EQ(daemon->Stop(), 0) << daemon->StderrText();
}

TEST(FuseUringTest, BusyPollingServesRequestsAndStopsCleanly) {
  std::unique_ptr<MountedDaemon> daemon =
      StartDaemonWith({"--fuse_uring=on", "--busy_poll_us=200"});
  ASSERT_NE(daemon, nullptr);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(RoundTrip(*daemon).bytes, "over the ring");
  EXPECT_EQ(daemon->Stop(), 0) << daemon->StderrText();
}

TEST(FuseUringTest, BadTransportFlagsFailFastWithOneLine) {
  TempDir dir;
  for (const char* flag : {"--fuse_uring=sometimes", "--busy_poll_us=-1"}) {
    CommandResult result = RunDaemonToExit({flag, dir.path()});
    EXPECT_EQ(result.exit_code, 1) << result;
    EXPECT_LT(result.elapsed, kFast) << result;
    EXPECT_THAT(result.err, MatchesRegex(kOneLine)) << result;
  }
}

}  // namespace
}  // namespace ipnfs::tests
