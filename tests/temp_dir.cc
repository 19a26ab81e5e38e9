#include "tests/temp_dir.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "tests/subprocess.h"

namespace ipnfs::tests {

TempDir::TempDir() {
  char pattern[] = "/tmp/ipnfs_test.XXXXXX";
  if (::mkdtemp(pattern) == nullptr) {
    std::cerr << "TempDir: mkdtemp failed: " << std::strerror(errno) << "\n";
    return;
  }
  path_ = pattern;
  ::chmod(path_.c_str(), 0755);
}

TempDir::~TempDir() {
  if (!path_.empty()) RunCommand({"/bin/rm", "-rf", "--one-file-system", path_});
}

std::string TempDir::PathOf(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

std::string ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace ipnfs::tests
