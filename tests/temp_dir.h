// TempDir: a directory under /tmp (mode 0755, so that other users reach what is inside) that is
// removed, with everything in it, when destroyed; and ReadFileText() to read a file back whole.
//
// Removal never crosses into another file system (rm --one-file-system): a mount left inside is
// left alone, never emptied. Not thread-safe: use one TempDir from one thread.
#ifndef IPNFS_TESTS_TEMP_DIR_H_
#define IPNFS_TESTS_TEMP_DIR_H_

#include <string>

#include "absl/strings/string_view.h"

namespace ipnfs::tests {

class TempDir {
 public:
  // Makes /tmp/ipnfs_test.XXXXXX; path() is empty (and a message on stderr) when it cannot.
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // `name` inside the directory.
  std::string PathOf(absl::string_view name) const;

 private:
  std::string path_;
};

// The whole content of `path` ("" when it cannot be read).
std::string ReadFileText(const std::string& path);

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_TEMP_DIR_H_
