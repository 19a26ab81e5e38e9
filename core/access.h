// Access: Unix permission checks, done by the daemon itself (r = receive, w = send, x = manage).
//
// Pure functions on values; thread-safe.
#ifndef IPNFS_CORE_ACCESS_H_
#define IPNFS_CORE_ACCESS_H_

#include <sys/types.h>

#include <vector>

namespace ipnfs {

// Who is asking: the caller of the file operation.
struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // Supplementary groups.

  bool IsRoot() const { return uid == 0; }
  // True when `group` is the primary or a supplementary group.
  bool InGroup(gid_t group) const;
};

// Bits of an access request, as in access(2).
inline constexpr int kMayRead = 4;
inline constexpr int kMayWrite = 2;
inline constexpr int kMayExecute = 1;

// True when `who` may access an object with `mode`, owned by `uid`:`gid`, for every bit of `mask`.
// The owner class applies to the owner, else the group class to members, else the other class.
// Root may read and write anything, and execute anything a class may execute or any directory.
bool MayAccess(mode_t mode, uid_t uid, gid_t gid, const Credentials& who, int mask);

// True when `who` may remove or rename `victim_uid`'s entry from a directory with `dir_mode`,
// owned by `dir_uid` (the sticky-bit rule). Write and search access are checked separately.
bool MayRemoveEntry(mode_t dir_mode, uid_t dir_uid, uid_t victim_uid, const Credentials& who);

}  // namespace ipnfs

#endif  // IPNFS_CORE_ACCESS_H_
