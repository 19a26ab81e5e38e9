// StateCodec: the text form of the persisted namespace (directories, networks, symlinks, their
// owners, modes, times and settings). Packets are not state.
//
//   ipnfs-state 1
//   dir / 1777 0 0 ATIME_NS MTIME_NS CTIME_NS [NAME=VALUE ...]
//   net /lab/net0 644 1000 1000 ATIME_NS MTIME_NS CTIME_NS policy=hub mtu=65536 ...
//   link /lab/alias 777 1000 1000 ATIME_NS MTIME_NS CTIME_NS TARGET
//
// Parents come before their children. Paths, targets and values are percent-encoded, so every
// field is one word. Pure functions; thread-safe.
#ifndef IPNFS_CORE_STATE_CODEC_H_
#define IPNFS_CORE_STATE_CODEC_H_

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ipnfs {

struct StateEntry {
  enum class Type { kDirectory, kNetwork, kSymlink };
  Type type = Type::kDirectory;
  std::string path;  // Absolute within the mount, "/" for the root.
  mode_t mode = 0;   // Permission bits only.
  uid_t uid = 0;
  gid_t gid = 0;
  absl::Time atime;
  absl::Time mtime;
  absl::Time ctime;
  std::string target;                                         // Symlinks.
  std::vector<std::pair<std::string, std::string>> settings;  // Networks, directory defaults.

  bool operator==(const StateEntry&) const = default;
};

std::string EncodeState(const std::vector<StateEntry>& entries);

// The entries of `text`; InvalidArgument naming the line for anything malformed.
absl::StatusOr<std::vector<StateEntry>> DecodeState(absl::string_view text);

}  // namespace ipnfs

#endif  // IPNFS_CORE_STATE_CODEC_H_
