#include "sock/peer_credentials.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "core/errno_status.h"

namespace ipnfs {

absl::StatusOr<Peer> ReadPeerCredentials(int fd) {
  ucred credentials{};
  socklen_t length = sizeof(credentials);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
    return ErrnoError(errno, "getsockopt(SO_PEERCRED)");
  }
  Peer peer;
  peer.pid = credentials.pid;
  peer.uid = credentials.uid;
  peer.gid = credentials.gid;
  // Most processes have a handful of groups; the kernel says how much room a longer list needs.
  std::vector<gid_t> groups(32);
  while (true) {
    socklen_t bytes = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &bytes) == 0) {
      groups.resize(bytes / sizeof(gid_t));
      break;
    }
    if (errno != ERANGE) return ErrnoError(errno, "getsockopt(SO_PEERGROUPS)");
    groups.resize(std::max<size_t>(bytes / sizeof(gid_t), 2 * groups.size()));
  }
  peer.groups = std::move(groups);
  return peer;
}

}  // namespace ipnfs
