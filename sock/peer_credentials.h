// ReadPeerCredentials: who is at the other end of a connected Unix socket, as the kernel recorded
// it when the peer connected (SO_PEERCRED, SO_PEERGROUPS). Thread-safe (no state).
#ifndef IPNFS_SOCK_PEER_CREDENTIALS_H_
#define IPNFS_SOCK_PEER_CREDENTIALS_H_

#include "absl/status/statusor.h"
#include "sock/socket_loop.h"

namespace ipnfs {

// The peer of socket `fd`: pid, uid, gid and supplementary groups. Fails with the errno of
// getsockopt (e.g. ENOTSOCK).
absl::StatusOr<Peer> ReadPeerCredentials(int fd);

}  // namespace ipnfs

#endif  // IPNFS_SOCK_PEER_CREDENTIALS_H_
