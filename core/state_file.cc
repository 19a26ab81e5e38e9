#include "core/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "core/errno_status.h"

namespace ipnfs {
namespace {

std::string Dirname(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status MakeDirectories(const std::string& dir) {
  if (dir.empty() || dir == "/" || dir == ".") return absl::OkStatus();
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) return absl::OkStatus();
  if (absl::Status parent = MakeDirectories(Dirname(dir)); !parent.ok()) return parent;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoError(errno, absl::StrCat("cannot create ", dir));
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, absl::string_view text, const std::string& path) {
  while (!text.empty()) {
    const ssize_t written = ::write(fd, text.data(), text.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, absl::StrCat("cannot write ", path));
    }
    text.remove_prefix(static_cast<size_t>(written));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<std::string>> StateFile::Load() const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<std::string>();
    return ErrnoError(errno, absl::StrCat("cannot read ", path_));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  return std::optional<std::string>(contents.str());
}

absl::Status StateFile::Save(absl::string_view text) {
  const std::string dir = Dirname(path_);
  if (absl::Status made = MakeDirectories(dir); !made.ok()) return made;
  const std::string temporary = absl::StrCat(path_, ".tmp");
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError(errno, absl::StrCat("cannot create ", temporary));
  absl::Status written = WriteAll(fd, text, temporary);
  if (written.ok() && ::fsync(fd) != 0) written = ErrnoError(errno, "fsync failed");
  ::close(fd);
  if (written.ok() && ::rename(temporary.c_str(), path_.c_str()) != 0) {
    written = ErrnoError(errno, absl::StrCat("cannot rename ", temporary, " to ", path_));
  }
  if (!written.ok()) {
    ::unlink(temporary.c_str());
    return written;
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

std::string DefaultStatePath(absl::string_view mount_point, bool root) {
  std::string name;
  for (char c : absl::StripPrefix(mount_point, "/")) {
    if (c == '/') {
      name.push_back('-');
    } else if (c == '-' || c == '\\' || static_cast<unsigned char>(c) <= ' ') {
      name += absl::StrFormat("\\x%02x", static_cast<unsigned char>(c));
    } else {
      name.push_back(c);
    }
  }
  if (name.empty()) name = "-";
  std::string dir;
  if (root) {
    dir = "/var/lib/ipnfs";
  } else if (const char* state = std::getenv("XDG_STATE_HOME"); state && *state) {
    dir = absl::StrCat(state, "/ipnfs");
  } else {
    const char* home = std::getenv("HOME");
    dir = absl::StrCat(home ? home : "/tmp", "/.local/state/ipnfs");
  }
  return absl::StrCat(dir, "/", name, ".state");
}

}  // namespace ipnfs
