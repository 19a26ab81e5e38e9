// StateFile: where the namespace's state lives on disk, written atomically.
//
// Save() writes a temporary file beside the target, fsyncs it, renames it over the target and
// fsyncs the directory, so a crash (even kill -9 or power loss) leaves either the old or the new
// state, never a mix. Thread-compatible: the namespace serialises calls.
#ifndef IPNFS_CORE_STATE_FILE_H_
#define IPNFS_CORE_STATE_FILE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ipnfs {

// Receives the namespace's state after every change.
class StateSink {
 public:
  virtual ~StateSink() = default;
  virtual absl::Status Save(absl::string_view text) = 0;
};

class StateFile final : public StateSink {
 public:
  explicit StateFile(std::string path) : path_(std::move(path)) {}

  // The file's contents, or nullopt when it does not exist yet.
  absl::StatusOr<std::optional<std::string>> Load() const;

  // Creates the parent directories if needed, then replaces the file atomically with `text`.
  absl::Status Save(absl::string_view text) override;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The default state file of a mount point: /var/lib/ipnfs/ as root, else $XDG_STATE_HOME/ipnfs/
// (~/.local/state/ipnfs/), named after the mount point's absolute path ("/ipn" -> "ipn.state",
// "/srv/lab net" -> "srv-lab\x20net.state").
std::string DefaultStatePath(absl::string_view mount_point, bool root);

}  // namespace ipnfs

#endif  // IPNFS_CORE_STATE_FILE_H_
