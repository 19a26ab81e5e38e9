// What the feature tests share beyond //tests: running shell scripts as another user, extended
// attributes through the system calls, the introspection attributes parsed into values, Ethernet
// frames built by hand, background programs (tcpdump, head, grep) and the files they have open,
// polling waits with deadlines, and a temporary directory outside the mount.
//
// Functions are thread-safe unless a class says otherwise.
#ifndef IPNFS_TESTS_FEATURES_FEATURE_SUPPORT_H_
#define IPNFS_TESTS_FEATURES_FEATURE_SUPPORT_H_

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/port_io.h"

namespace ipnfs::tests {

// The user other tests run as, and their numeric ids.
inline constexpr uid_t kNobodyUid = 65534;
inline constexpr gid_t kNogroupGid = 65534;

// A shell command that runs `script` with /bin/sh as nobody:nogroup without supplementary groups
// (`groups` is setpriv's option for them, e.g. "--groups=100" to keep group users).
std::string AsNobody(const std::string& script, const std::string& groups = "--clear-groups");

// Single-quotes `text` for /bin/sh.
std::string ShellQuote(absl::string_view text);

// The outcome of one extended attribute call: errno, or the value read.
struct XattrResult {
  int error = 0;
  std::string value;
};
XattrResult GetXattr(const std::string& path, const std::string& name);
// setxattr(2)/removexattr(2): 0 or errno.
int SetXattr(const std::string& path, const std::string& name, absl::string_view value);
int RemoveXattr(const std::string& path, const std::string& name);

// "NAME VALUE" lines (user.ipn.stats) as a map; unparsable lines are left out.
std::map<std::string, int64_t> ParseCounters(absl::string_view text);
// user.ipn.stats of `path`, parsed; empty when it cannot be read.
std::map<std::string, int64_t> StatsOf(const std::string& path);

// One "key=value key=value" line (user.ipn.ports) as a map.
using PortLine = std::map<std::string, std::string>;
std::vector<PortLine> ParsePortLines(absl::string_view text);
// user.ipn.ports of `path`, parsed.
std::vector<PortLine> PortsOf(const std::string& path);
// The line of port `id` in user.ipn.ports of `path`.
std::optional<PortLine> PortLineOf(const std::string& path, const std::string& id);

// A port joined by this process and its id, as user.ipn.ports shows it.
struct JoinedPort {
  Fd fd;
  std::string id;  // Empty when the open failed or no new line appeared.
};
// Opens `path` with `flags` and finds the port's line in user.ipn.ports (the one line that was
// not there before the open). Not for concurrent joins of the same network.
JoinedPort JoinPort(const std::string& path, int flags);

// A MAC address and the frames built from it.
using Mac = std::array<uint8_t, 6>;
inline constexpr Mac kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
// 02:00:00:00:00:NN, a locally administered unicast address.
Mac LocalMac(uint8_t last);
// "02:00:00:00:00:0a".
std::string MacText(const Mac& mac);
// An untagged Ethernet frame: destination, source, `ethertype`, then `payload`.
std::string EthernetFrame(const Mac& destination, const Mac& source, absl::string_view payload,
                          uint16_t ethertype = 0x88b5);

// Polls `condition` every few milliseconds until it holds (true) or `timeout` passes (false).
bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout = absl::Seconds(5));

// True when process `pid` has `path` open, per /proc/PID/fd (waits up to `timeout`).
bool WaitUntilOpened(pid_t pid, const std::string& path, absl::Duration timeout);

// The process's command name (/proc/self/comm), as ports lines and events show it.
std::string OwnCommandName();

// A directory under /tmp (mode 0755) removed with everything in it when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string PathOf(absl::string_view name) const;

 private:
  std::string path_;
};

// The whole content of `path` ("" when it cannot be read).
std::string ReadFileText(const std::string& path);

// A program running in the background, its stdout and stderr going to files of a TempDir, in its
// own process group, killed (the whole group) when destroyed. Not thread-safe.
class BackgroundProcess {
 public:
  // Starts `argv` (argv[0] a path) in `cwd`; pid() is -1 when it could not start.
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& cwd);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Its exit code (as CommandResult's) once it exits within `timeout`; nullopt if it still runs.
  std::optional<int> WaitForExit(absl::Duration timeout);
  // Kills its process group (SIGKILL unless told otherwise) and reaps it.
  void Kill(int signal = 9);
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  TempDir directory_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// A write() of `packet` in its own thread, for writes that flow control makes wait.
class WriteInThread : public CallInThread {
 public:
  WriteInThread(int fd, std::string packet);
};

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_FEATURES_FEATURE_SUPPORT_H_
