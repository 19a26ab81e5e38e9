// SocketPeer: socket_peer (socket_peer.cc) running in the background, as the test's own user or as
// another one (RunAs, through setpriv), connected to a socket face and running its steps. The
// test follows it by the lines it prints. The program is copied once per test process into a
// directory every user may enter (the runfiles sit under /root, closed to others).
//
// Not thread-safe: use one SocketPeer from one thread.
#ifndef IPNFS_TESTS_SOCKETS_SOCKET_PEER_PROCESS_H_
#define IPNFS_TESTS_SOCKETS_SOCKET_PEER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/background_process.h"
#include "tests/run_as.h"
#include "tests/sockets/socket_client.h"

namespace ipnfs::tests {

class SocketPeer {
 public:
  // Starts `socket_peer KIND PATH STEPS...` as `as`. pid() is -1 when it could not start.
  SocketPeer(const RunAs& as, SocketKind kind, const std::string& path,
             const std::vector<std::string>& steps);

  pid_t pid() const { return process_->pid(); }
  // The lines printed so far.
  std::vector<std::string> Lines() const;
  // Waits up to `timeout` until it has printed at least `count` lines.
  bool WaitForLines(size_t count, absl::Duration timeout = absl::Seconds(10));
  // Waits up to `timeout` for it to exit and returns every line it printed; a peer that does not
  // exit in time is killed and its lines end with "(still running)".
  std::vector<std::string> Finish(absl::Duration timeout = absl::Seconds(20));
  // What it wrote on stderr, for failure messages.
  std::string Stderr() const { return process_->Stderr(); }

 private:
  std::unique_ptr<BackgroundProcess> process_;
};

// The copy of socket_peer that every user may run.
const std::string& SocketPeerBinary();

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_SOCKETS_SOCKET_PEER_PROCESS_H_
