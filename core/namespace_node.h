// Namespace::Node: one directory, network or symlink. Private to the namespace's .cc files.
#ifndef IPNFS_CORE_NAMESPACE_NODE_H_
#define IPNFS_CORE_NAMESPACE_NODE_H_

#include <sys/stat.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/namespace.h"

namespace ipnfs {

// OK for a valid entry name: not empty, ".", ".." or longer than 255 bytes, and without '/'.
absl::Status CheckEntryName(absl::string_view name);

struct Namespace::Node {
  Attributes attr;
  ino_t parent = 0;                                    // The directory holding its name.
  std::map<std::string, ino_t, std::less<>> children;  // Directories.
  std::map<std::string, std::string> defaults;         // Directories: setting -> value.
  std::string target;                                  // Symlinks.
  std::shared_ptr<Network> network;                    // Networks.
  uint64_t lookups = 0;                                // Held by the kernel.

  bool is_directory() const { return S_ISDIR(attr.mode); }
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_NAMESPACE_NODE_H_
