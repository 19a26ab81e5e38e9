#include "tests/tap/network_namespace.h"

#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace ipnfs::tests {
namespace {

constexpr char kSearchPath[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH; ";
constexpr char kIp[] = "/usr/sbin/ip";

// The namespace a /proc/.../ns/net link names ("net:[4026531840]"), or "" when unreadable.
std::string NamespaceLink(const std::string& path) {
  char target[PATH_MAX];
  const ssize_t n = ::readlink(path.c_str(), target, sizeof(target));
  return n > 0 ? std::string(target, static_cast<size_t>(n)) : std::string();
}

absl::Status Failed(absl::string_view what, const CommandResult& result) {
  std::ostringstream text;
  text << what << ": " << result;
  return absl::InternalError(text.str());
}

}  // namespace

absl::Status EnterNewNetworkNamespace() {
  if (::unshare(CLONE_NEWNET) != 0) {
    return absl::ErrnoToStatus(errno, "unshare(CLONE_NEWNET) (the tap tests need root)");
  }
  const CommandResult lo = RunCommand({kIp, "link", "set", "lo", "up"});
  if (lo.exit_code != 0) return Failed("ip link set lo up", lo);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<NetworkNamespace>> NetworkNamespace::Create() {
  SpawnOptions options;
  options.parent_death_signal = SIGKILL;
  const pid_t pid = Spawn({"/usr/bin/unshare", "--net", "/bin/sleep", "infinity"}, options);
  if (pid < 0) return absl::ErrnoToStatus(errno, "cannot start unshare");
  // From here on the destructor ends the child, whatever happens.
  auto created = std::unique_ptr<NetworkNamespace>(new NetworkNamespace(pid));
  const std::string ours = NamespaceLink("/proc/thread-self/ns/net");
  const std::string theirs = absl::StrCat("/proc/", pid, "/ns/net");
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  for (std::string link = NamespaceLink(theirs); link.empty() || link == ours;
       link = NamespaceLink(theirs)) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError("unshare --net did not make a new network namespace");
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  const CommandResult lo = created->Exec({kIp, "link", "set", "lo", "up"});
  if (lo.exit_code != 0) return Failed("ip link set lo up", lo);
  return created;
}

const NetworkNamespace& NetworkNamespace::Here() {
  static const NetworkNamespace* const here = new NetworkNamespace(0);
  return *here;
}

NetworkNamespace::~NetworkNamespace() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  WaitForExit(pid_, absl::Seconds(10));
}

std::vector<std::string> NetworkNamespace::Inside(std::vector<std::string> argv) const {
  if (pid_ == 0) return argv;
  std::vector<std::string> wrapped = {"/usr/bin/nsenter",
                                      absl::StrCat("--net=/proc/", pid_, "/ns/net"), "--"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

CommandResult NetworkNamespace::Exec(const std::vector<std::string>& argv,
                                     absl::Duration timeout) const {
  CommandOptions options;
  options.timeout = timeout;
  return RunCommand(Inside(argv), options);
}

CommandResult NetworkNamespace::Shell(const std::string& command, absl::Duration timeout) const {
  return Exec({"/bin/sh", "-c", absl::StrCat(kSearchPath, command)}, timeout);
}

absl::Status NetworkNamespace::Adopt(const std::string& interface, const std::string& cidr) const {
  const CommandResult moved =
      Here().Exec({kIp, "link", "set", interface, "netns", absl::StrCat(pid_)});
  if (moved.exit_code != 0) return Failed(absl::StrCat("moving ", interface), moved);
  const CommandResult up = Shell(
      absl::StrCat("ip link set ", interface, " up && ip addr add ", cidr, " dev ", interface));
  if (up.exit_code != 0) return Failed(absl::StrCat("setting up ", interface), up);
  return absl::OkStatus();
}

bool NetworkNamespace::HasInterface(const std::string& interface) const {
  return Exec({kIp, "link", "show", "dev", interface}).exit_code == 0;
}

std::string NetworkNamespace::MacAddressOf(const std::string& interface) const {
  const std::string shown = Exec({kIp, "-o", "link", "show", "dev", interface}).out;
  const size_t at = shown.find("link/ether ");
  return at == std::string::npos ? "" : shown.substr(at + 11, 17);
}

::testing::AssertionResult NetworkNamespace::Pings(const std::string& address) const {
  const CommandResult ping = Exec({"/usr/bin/ping", "-c", "3", "-W", "2", address});
  if (ping.exit_code == 0 && ping.out.find(" 3 received") != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "ping -c 3 -W 2 " << address << ": " << ping;
}

}  // namespace ipnfs::tests
