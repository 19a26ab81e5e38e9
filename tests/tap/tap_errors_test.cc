// What setfattr user.ipn.tap / user.ipn.grab refuses, with which errno, and that a refused change
// changes nothing: invalid names (EINVAL), names of other interfaces (EEXIST), grabbing loopback
// or a missing interface (EINVAL), a user without x (EACCES), a daemon without CAP_NET_ADMIN
// (EPERM, and a log line saying so).
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/mounted_daemon.h"
#include "tests/subprocess.h"
#include "tests/tap/ipn_attributes.h"
#include "tests/tap/network_namespace.h"
#include "tests/tap/tap_test.h"

namespace ipnfs::tests {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using TapErrorsTest = TapTest;

const NetworkNamespace& Here() { return NetworkNamespace::Here(); }

TEST_F(TapErrorsTest, InvalidInterfaceNamesAreEinvalAndChangeNothing) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0"), Succeeds());
  // Over 15 bytes, '/', white space inside a name; a valid name first (in any order the daemon
  // may try them) must not be left behind.
  for (const std::string value : {"sixteen-bytes-xx", "a/b", "a b", "tab\tx", "new\nline",
                                  "ipn1,x/y", "ipn1,ipn-sixteen-byte"}) {
    EXPECT_THAT(SetAttribute(net, "user.ipn.tap", value), FailsWithErrno(EINVAL)) << value;
    EXPECT_THAT(SetAttribute(net, "user.ipn.grab", value), FailsWithErrno(EINVAL)) << value;
  }
  EXPECT_EQ(AttachedInterfaces(net, "tap"), "ipn0");
  EXPECT_EQ(AttachedInterfaces(net, "grab"), "");
  EXPECT_THAT(PortOwners(net), ElementsAre("tap:ipn0"));
  EXPECT_TRUE(Here().HasInterface("ipn0"));
  EXPECT_FALSE(Here().HasInterface("ipn1"));
}

TEST_F(TapErrorsTest, EmptyListMeansNoInterfaces) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1"), Succeeds());
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", ""), Succeeds());
  EXPECT_EQ(AttachedInterfaces(net), "");
  EXPECT_THAT(PortOwners(net), IsEmpty());
  EXPECT_FALSE(Here().HasInterface("ipn0"));
  EXPECT_FALSE(Here().HasInterface("ipn1"));
  // And setfattr -x removes them all, too.
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1"), Succeeds());
  EXPECT_THAT(RemoveAttribute(net, "user.ipn.tap"), Succeeds());
  EXPECT_EQ(AttachedInterfaces(net), "");
  EXPECT_FALSE(Here().HasInterface("ipn0"));
}

TEST_F(TapErrorsTest, NameOfAnInterfaceThatIsNotThisNetworksTapIsEexistAndChangesNothing) {
  const std::string net = NewNetwork("net0");
  const std::string other = NewNetwork("net1");
  ASSERT_THAT(Here().Shell("ip link add ipnv0 type veth peer name ipnv1"), Succeeds());
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0"), Succeeds());
  ASSERT_THAT(SetAttribute(other, "user.ipn.tap", "ipn5"), Succeeds());

  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipnv1"), FailsWithErrno(EEXIST));
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipnv0"), FailsWithErrno(EEXIST));
  // ipn1 would be created first: it must be gone again.
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipn1,ipnv1"), FailsWithErrno(EEXIST));
  // Another network's tap.
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn5"), FailsWithErrno(EEXIST));
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipn5"), FailsWithErrno(EEXIST));

  EXPECT_EQ(AttachedInterfaces(net), "ipn0");
  EXPECT_EQ(AttachedInterfaces(other), "ipn5");
  EXPECT_THAT(PortOwners(net), ElementsAre("tap:ipn0"));
  EXPECT_THAT(PortOwners(other), ElementsAre("tap:ipn5"));
  EXPECT_FALSE(Here().HasInterface("ipn1"));
  EXPECT_TRUE(Here().HasInterface("ipnv0"));
  EXPECT_TRUE(Here().HasInterface("ipnv1"));
}

TEST_F(TapErrorsTest, GrabOfLoopbackOrOfAMissingInterfaceIsEinvalAndChangesNothing) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(Here().Shell("ip link add ipnv0 type veth peer name ipnv1"), Succeeds());
  ASSERT_THAT(SetAttribute(net, "user.ipn.grab", "ipnv0"), Succeeds());

  EXPECT_THAT(SetAttribute(net, "user.ipn.grab", "lo"), FailsWithErrno(EINVAL));
  EXPECT_THAT(SetAttribute(net, "user.ipn.grab", "ipnv0,lo"), FailsWithErrno(EINVAL));
  EXPECT_THAT(SetAttribute(net, "user.ipn.grab", "ipn-nothere"), FailsWithErrno(EINVAL));
  EXPECT_THAT(SetAttribute(net, "user.ipn.grab", "ipnv0,ipn-nothere"), FailsWithErrno(EINVAL));

  EXPECT_EQ(AttachedInterfaces(net, "grab"), "ipnv0");
  EXPECT_THAT(PortOwners(net), ElementsAre("grab:ipnv0"));
  EXPECT_TRUE(Here().HasInterface("ipnv0"));
}

TEST_F(TapErrorsTest, UserWithoutXOnTheNetworkGetsEaccesAndChangesNothing) {
  const std::string net = NewNetwork("net0");
  ASSERT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0"), Succeeds());
  ASSERT_EQ(::chmod(net.c_str(), 0666), 0);
  const RunAs nobody{.user = "nobody"};

  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1", nobody), FailsWithErrno(EACCES));
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "", nobody), FailsWithErrno(EACCES));
  EXPECT_THAT(RemoveAttribute(net, "user.ipn.tap", nobody), FailsWithErrno(EACCES));
  EXPECT_THAT(SetAttribute(net, "user.ipn.grab", "lo", nobody), FailsWithErrno(EACCES));
  EXPECT_EQ(AttachedInterfaces(net), "ipn0");
  EXPECT_THAT(PortOwners(net), ElementsAre("tap:ipn0"));
  EXPECT_FALSE(Here().HasInterface("ipn1"));

  // x is all it takes: the same user manages the taps of a --x network.
  ASSERT_EQ(::chmod(net.c_str(), 0661), 0);
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0,ipn1", nobody), Succeeds());
  EXPECT_EQ(AttachedInterfaces(net), "ipn0,ipn1");
}

// The daemon started by hand under `setpriv --inh-caps=-net_admin --bounding-set=-net_admin`,
// mounted on a temporary directory like MountedDaemon does. Stopped (SIGTERM, then SIGKILL and a
// lazy unmount) and its directory removed when destroyed.
class DaemonWithoutNetAdmin {
 public:
  static absl::StatusOr<std::unique_ptr<DaemonWithoutNetAdmin>> Start() {
    char pattern[] = "/tmp/ipnfs_tap_test.XXXXXX";
    if (::mkdtemp(pattern) == nullptr) return absl::ErrnoToStatus(errno, "mkdtemp");
    auto daemon = std::unique_ptr<DaemonWithoutNetAdmin>(new DaemonWithoutNetAdmin(pattern));
    if (::chmod(pattern, 0755) != 0 || ::mkdir(daemon->path().c_str(), 0755) != 0) {
      return absl::ErrnoToStatus(errno, "mkdir");
    }
    const int log = ::open(daemon->log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log < 0) return absl::ErrnoToStatus(errno, "open the log");
    SpawnOptions options;
    options.stderr_fd = log;
    options.parent_death_signal = SIGTERM;
    daemon->pid_ = Spawn({"/usr/bin/setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin",
                          "--", DaemonBinary(), "--state=none", daemon->path()},
                         options);
    ::close(log);
    if (daemon->pid_ < 0) return absl::ErrnoToStatus(errno, "cannot start setpriv");
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!IsMounted(daemon->path())) {
      if (std::optional<int> code = WaitForExit(daemon->pid_, absl::ZeroDuration())) {
        daemon->exit_code_ = code;
        return absl::InternalError(
            absl::StrCat("the daemon exited with ", *code, ":\n", daemon->StderrText()));
      }
      if (absl::Now() > deadline) return absl::DeadlineExceededError(daemon->StderrText());
      absl::SleepFor(absl::Milliseconds(5));
    }
    return daemon;
  }

  ~DaemonWithoutNetAdmin() {
    if (pid_ > 0) Stop();
    if (IsMounted(path())) RunCommand({"/usr/bin/fusermount3", "-u", "-z", path()});
    RunCommand({"/bin/rm", "-rf", directory_});
  }

  // SIGTERM; the exit code, or -1 when it had to be killed.
  int Stop() {
    if (exit_code_.has_value()) return *exit_code_;
    ::kill(pid_, SIGTERM);
    exit_code_ = WaitForExit(pid_, absl::Seconds(10));
    if (!exit_code_.has_value()) {
      ::kill(pid_, SIGKILL);
      WaitForExit(pid_, absl::Seconds(10));
      exit_code_ = -1;
    }
    return *exit_code_;
  }

  std::string path() const { return directory_ + "/mnt"; }
  pid_t pid() const { return pid_; }
  std::string StderrText() const {
    std::ifstream in(log_);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  explicit DaemonWithoutNetAdmin(std::string directory)
      : directory_(std::move(directory)), log_(directory_ + "/stderr.log") {}

  std::string directory_;
  std::string log_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// The capability set `name` ("CapEff", "CapPrm", "CapBnd") of process `pid`, from /proc.
std::optional<uint64_t> CapabilitySet(pid_t pid, absl::string_view name) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    std::vector<std::string> fields =
        absl::StrSplit(line, absl::ByAnyChar(":\t "), absl::SkipEmpty());
    uint64_t set = 0;
    if (fields.size() == 2 && fields[0] == name && absl::SimpleHexAtoi(fields[1], &set)) {
      return set;
    }
  }
  return std::nullopt;
}

TEST(TapWithoutNetAdminTest, DaemonWithoutNetAdminGetsEpermAndSaysSo) {
  ASSERT_EQ(EnterNewNetworkNamespace(), absl::OkStatus());
  ASSERT_THAT(Here().Shell("ip link add ipnv0 type veth peer name ipnv1"), Succeeds());
  absl::StatusOr<std::unique_ptr<DaemonWithoutNetAdmin>> started = DaemonWithoutNetAdmin::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  DaemonWithoutNetAdmin& daemon = **started;

  // setpriv really took the capability from the daemon (it execs the daemon: same pid).
  char exe[PATH_MAX] = {};
  ASSERT_GT(::readlink(absl::StrCat("/proc/", daemon.pid(), "/exe").c_str(), exe, sizeof(exe) - 1),
            0);
  ASSERT_TRUE(absl::EndsWith(exe, "/ipnfs")) << exe;
  constexpr uint64_t kNetAdmin = uint64_t{1} << CAP_NET_ADMIN;
  for (absl::string_view set : {"CapEff", "CapPrm", "CapBnd"}) {
    const std::optional<uint64_t> caps = CapabilitySet(daemon.pid(), set);
    ASSERT_TRUE(caps.has_value()) << set;
    EXPECT_EQ(*caps & kNetAdmin, 0u) << set << " still has CAP_NET_ADMIN";
  }

  const std::string net = daemon.path() + "/net0";
  ASSERT_THAT(RunCommand({"/usr/bin/touch", net}), Succeeds());
  EXPECT_THAT(SetAttribute(net, "user.ipn.tap", "ipn0"), FailsWithErrno(EPERM));
  EXPECT_THAT(SetAttribute(net, "user.ipn.grab", "ipnv0"), FailsWithErrno(EPERM));
  EXPECT_EQ(AttachedInterfaces(net, "tap"), "");
  EXPECT_EQ(AttachedInterfaces(net, "grab"), "");
  EXPECT_THAT(PortOwners(net), IsEmpty());
  EXPECT_FALSE(Here().HasInterface("ipn0"));
  EXPECT_THAT(daemon.StderrText(), HasSubstr("CAP_NET_ADMIN"));
  EXPECT_EQ(daemon.Stop(), 0) << daemon.StderrText();
}

}  // namespace
}  // namespace ipnfs::tests
