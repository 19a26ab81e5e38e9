#include "tests/features/feature_support.h"

#include <dirent.h>
#include <limits.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/temp_dir.h"
#include "tests/wait_until.h"

namespace ipnfs::tests {

XattrResult GetXattr(const std::string& path, const std::string& name) {
  XattrResult result;
  std::string buffer(1 << 20, '\0');
  const ssize_t n = ::getxattr(path.c_str(), name.c_str(), buffer.data(), buffer.size());
  if (n < 0) {
    result.error = errno;
  } else {
    result.value = buffer.substr(0, static_cast<size_t>(n));
  }
  return result;
}

int SetXattr(const std::string& path, const std::string& name, absl::string_view value) {
  return ::setxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0) == 0 ? 0 : errno;
}

int RemoveXattr(const std::string& path, const std::string& name) {
  return ::removexattr(path.c_str(), name.c_str()) == 0 ? 0 : errno;
}

std::map<std::string, int64_t> ParseCounters(absl::string_view text) {
  std::map<std::string, int64_t> counters;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ');
    int64_t value = 0;
    if (words.size() == 2 && absl::SimpleAtoi(words[1], &value)) {
      counters[std::string(words[0])] = value;
    }
  }
  return counters;
}

std::map<std::string, int64_t> StatsOf(const std::string& path) {
  return ParseCounters(GetXattr(path, "user.ipn.stats").value);
}

std::vector<PortLine> ParsePortLines(absl::string_view text) {
  std::vector<PortLine> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    PortLine fields;
    for (absl::string_view field : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
      std::pair<std::string, std::string> pair = absl::StrSplit(field, absl::MaxSplits('=', 1));
      fields[pair.first] = pair.second;
    }
    lines.push_back(std::move(fields));
  }
  return lines;
}

std::vector<PortLine> PortsOf(const std::string& path) {
  return ParsePortLines(GetXattr(path, "user.ipn.ports").value);
}

std::optional<PortLine> PortLineOf(const std::string& path, const std::string& id) {
  for (PortLine& line : PortsOf(path)) {
    if (line["port"] == id) return line;
  }
  return std::nullopt;
}

JoinedPort JoinPort(const std::string& path, int flags) {
  std::set<std::string> before;
  for (PortLine& line : PortsOf(path)) before.insert(line["port"]);
  JoinedPort joined;
  joined.fd = Open(path, flags);
  if (!joined.fd.valid()) return joined;
  for (PortLine& line : PortsOf(path)) {
    if (!before.contains(line["port"])) joined.id = line["port"];
  }
  return joined;
}

bool WaitUntilOpened(pid_t pid, const std::string& path, absl::Duration timeout) {
  const std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
  return WaitUntil(
      [&] {
        DIR* dir = ::opendir(fd_dir.c_str());
        if (dir == nullptr) return false;
        bool found = false;
        while (dirent* entry = ::readdir(dir)) {
          char target[PATH_MAX];
          const std::string link = absl::StrCat(fd_dir, "/", entry->d_name);
          const ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
          if (n > 0 && std::string(target, static_cast<size_t>(n)) == path) found = true;
        }
        ::closedir(dir);
        return found;
      },
      timeout);
}

std::string OwnCommandName() {
  return std::string(absl::StripTrailingAsciiWhitespace(ReadFileText("/proc/self/comm")));
}

WriteInThread::WriteInThread(int fd, std::string packet)
    : CallInThread([fd, packet = std::move(packet)] { return Send(fd, packet); }, SYS_write) {}

}  // namespace ipnfs::tests
