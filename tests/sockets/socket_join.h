// JoinSocket: connects to a network's socket face and waits until the daemon has accepted the
// connection as a port, i.e. a port id that was not there before shows in user.ipn.ports. connect()
// returns before the daemon accepts, so a packet sent to the network right after connect() may
// miss the new connection; tests that need it to be a port join with this. Thread-safe, but not
// for concurrent joins of one network.
#ifndef IPNFS_TESTS_SOCKETS_SOCKET_JOIN_H_
#define IPNFS_TESTS_SOCKETS_SOCKET_JOIN_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/sockets/socket_client.h"

namespace ipnfs::tests {

// Connects to face `kind` of network `network` (relative to the mount's root) of the mount
// `mount`; fails the test (and returns what it has) when the connect fails or no new port shows
// within `timeout`.
SocketClient JoinSocket(const std::string& mount, SocketKind kind, absl::string_view network,
                        absl::Duration timeout = absl::Seconds(5));

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_SOCKETS_SOCKET_JOIN_H_
