#include "tests/features/feature_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tests/subprocess.h"

namespace ipnfs::tests {

std::string ShellQuote(absl::string_view text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

std::string AsNobody(const std::string& script, const std::string& groups) {
  return absl::StrCat("setpriv --reuid=nobody --regid=nogroup ", groups, " /bin/sh -c ",
                      ShellQuote(script));
}

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

Mac LocalMac(uint8_t last) { return {0x02, 0, 0, 0, 0, last}; }

std::string MacText(const Mac& mac) {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
                         mac[5]);
}

std::string EthernetFrame(const Mac& destination, const Mac& source, absl::string_view payload,
                          uint16_t ethertype) {
  std::string frame(destination.begin(), destination.end());
  frame.append(source.begin(), source.end());
  frame.push_back(static_cast<char>(ethertype >> 8));
  frame.push_back(static_cast<char>(ethertype & 0xff));
  frame.append(payload.data(), payload.size());
  return frame;
}

bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
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

TempDir::TempDir() {
  char pattern[] = "/tmp/ipnfs_feature.XXXXXX";
  if (::mkdtemp(pattern) != nullptr) {
    path_ = pattern;
    ::chmod(path_.c_str(), 0755);
  } else {
    std::cerr << "TempDir: mkdtemp failed: " << std::strerror(errno) << "\n";
  }
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

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const std::string& cwd) {
  const int out = ::open(directory_.PathOf("stdout").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  const int err = ::open(directory_.PathOf("stderr").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  SpawnOptions options;
  options.cwd = cwd;
  options.stdout_fd = out;
  options.stderr_fd = err;
  options.parent_death_signal = SIGKILL;
  pid_ = Spawn(argv, options);
  ::close(out);
  ::close(err);
}

BackgroundProcess::~BackgroundProcess() { Kill(); }

std::optional<int> BackgroundProcess::WaitForExit(absl::Duration timeout) {
  if (pid_ > 0 && !exit_code_.has_value()) exit_code_ = tests::WaitForExit(pid_, timeout);
  return exit_code_;
}

void BackgroundProcess::Kill(int signal) {
  if (pid_ <= 0 || exit_code_.has_value()) return;
  ::kill(-pid_, signal);
  if (!WaitForExit(absl::Seconds(5)).has_value()) {
    ::kill(-pid_, SIGKILL);
    WaitForExit(absl::Seconds(5));
  }
}

std::string BackgroundProcess::Stdout() const { return ReadFileText(directory_.PathOf("stdout")); }

std::string BackgroundProcess::Stderr() const { return ReadFileText(directory_.PathOf("stderr")); }

WriteInThread::WriteInThread(int fd, std::string packet)
    : CallInThread([fd, packet = std::move(packet)] { return Send(fd, packet); }, SYS_write) {}

}  // namespace ipnfs::tests
