#include "core/access.h"

#include <sys/stat.h>

#include <algorithm>

namespace ipnfs {

bool Credentials::InGroup(gid_t group) const {
  return group == gid || std::find(groups.begin(), groups.end(), group) != groups.end();
}

bool MayAccess(mode_t mode, uid_t uid, gid_t gid, const Credentials& who, int mask) {
  mask &= kMayRead | kMayWrite | kMayExecute;
  if (who.IsRoot()) {
    if (!(mask & kMayExecute)) return true;
    return S_ISDIR(mode) || (mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0;
  }
  int granted;
  if (who.uid == uid) {
    granted = (mode >> 6) & 7;
  } else if (who.InGroup(gid)) {
    granted = (mode >> 3) & 7;
  } else {
    granted = mode & 7;
  }
  return (granted & mask) == mask;
}

bool MayRemoveEntry(mode_t dir_mode, uid_t dir_uid, uid_t victim_uid, const Credentials& who) {
  if (!(dir_mode & S_ISVTX)) return true;
  return who.IsRoot() || who.uid == dir_uid || who.uid == victim_uid;
}

}  // namespace ipnfs
