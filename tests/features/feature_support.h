// What the feature tests share beyond //tests: extended attributes through the system calls, the
// introspection attributes parsed into values, ports joined with their ids, the files a
// background program has open, and writes that flow control makes wait.
//
// Functions are thread-safe unless a class says otherwise.
#ifndef IPNFS_TESTS_FEATURES_FEATURE_SUPPORT_H_
#define IPNFS_TESTS_FEATURES_FEATURE_SUPPORT_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/port_io.h"

namespace ipnfs::tests {

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

// True when process `pid` has `path` open, per /proc/PID/fd (waits up to `timeout`).
bool WaitUntilOpened(pid_t pid, const std::string& path, absl::Duration timeout);

// The process's command name (/proc/self/comm), as ports lines and events show it.
std::string OwnCommandName();

// A write() of `packet` in its own thread, for writes that flow control makes wait.
class WriteInThread : public CallInThread {
 public:
  WriteInThread(int fd, std::string packet);
};

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_FEATURES_FEATURE_SUPPORT_H_
