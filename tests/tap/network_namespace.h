// NetworkNamespace: a Linux network namespace for tap integration tests, held by a child process
// (`unshare --net sleep infinity`) so that it, and every interface in it, goes away with that
// child: when the object is destroyed, or when the test dies (the child gets SIGKILL then).
// Commands run inside it through nsenter; Here() runs them in the test's own namespace instead.
//
// EnterNewNetworkNamespace() moves the calling thread (the test's main thread) into a fresh,
// private namespace: whatever a test creates there is never seen by the host, and is gone once
// the test has moved on to the next fresh namespace and its daemon has exited.
//
// Commands run with PATH=/usr/sbin:/usr/bin:/sbin:/bin whatever the test's environment.
// Not thread-safe; use from the test's main thread.
#ifndef IPNFS_TESTS_TAP_NETWORK_NAMESPACE_H_
#define IPNFS_TESTS_TAP_NETWORK_NAMESPACE_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"

namespace ipnfs::tests {

// unshare(CLONE_NEWNET) for the calling thread, then brings its loopback up. Children started
// afterwards from this thread (the daemon, shell tools) live in the new namespace.
absl::Status EnterNewNetworkNamespace();

class NetworkNamespace {
 public:
  // Starts the holding child and waits (up to 5 s) until it is in its own namespace, whose
  // loopback is then set up.
  static absl::StatusOr<std::unique_ptr<NetworkNamespace>> Create();
  // The test thread's own namespace: commands run directly. Lives for the whole process.
  static const NetworkNamespace& Here();

  // Kills the holding child: the namespace and its interfaces go away.
  ~NetworkNamespace();
  NetworkNamespace(const NetworkNamespace&) = delete;
  NetworkNamespace& operator=(const NetworkNamespace&) = delete;

  // The holding child's pid (what `ip link set IF netns PID` takes); 0 for Here().
  pid_t pid() const { return pid_; }

  // `argv` (an absolute path first) made to run inside this namespace.
  std::vector<std::string> Inside(std::vector<std::string> argv) const;
  // Runs `argv` inside, to completion.
  CommandResult Exec(const std::vector<std::string>& argv,
                     absl::Duration timeout = absl::Seconds(30)) const;
  // Runs `/bin/sh -c command` inside, to completion.
  CommandResult Shell(const std::string& command, absl::Duration timeout = absl::Seconds(30)) const;

  // Moves `interface` from the test's namespace into this one, sets it up and gives it `cidr`.
  absl::Status Adopt(const std::string& interface, const std::string& cidr) const;
  // True when `interface` exists in this namespace.
  bool HasInterface(const std::string& interface) const;
  // The MAC address of `interface` here ("aa:bb:cc:dd:ee:ff"), or "" when it has none.
  std::string MacAddressOf(const std::string& interface) const;
  // Success when `ping -c 3 -W 2 address` from here gets all three answers.
  ::testing::AssertionResult Pings(const std::string& address) const;

 private:
  explicit NetworkNamespace(pid_t pid) : pid_(pid) {}

  pid_t pid_;  // 0: the test's own namespace.
};

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_TAP_NETWORK_NAMESPACE_H_
