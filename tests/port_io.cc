#include "tests/port_io.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace ipnfs::tests {
namespace {

constexpr size_t kShownBytes = 64;

std::string Shown(absl::string_view bytes) {
  std::string shown = absl::StrCat(bytes.size(), " bytes \"");
  for (char c : bytes.substr(0, kShownBytes)) {
    if (c >= 0x20 && c < 0x7f) {
      shown.push_back(c);
    } else {
      absl::StrAppend(&shown, "\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    }
  }
  absl::StrAppend(&shown, bytes.size() > kShownBytes ? "\"..." : "\"");
  return shown;
}

std::string Describe(const IoResult& result) {
  if (result.error != 0) {
    return absl::StrCat("failed with errno ", result.error, " (", std::strerror(result.error), ")");
  }
  return absl::StrCat("returned ", result.count, ", ", Shown(result.bytes));
}

IoResult ReadOnce(int fd, size_t buffer_size) {
  std::vector<char> buffer(buffer_size);
  const ssize_t n = ::read(fd, buffer.data(), buffer.size());
  if (n < 0) return Failed(errno);
  return Succeeded(n, std::string(buffer.data(), static_cast<size_t>(n)));
}

// A gmock matcher on IoResult built from a predicate and a description.
class IoMatcher : public ::testing::MatcherInterface<const IoResult&> {
 public:
  IoMatcher(std::string description, std::function<bool(const IoResult&)> predicate)
      : description_(std::move(description)), predicate_(std::move(predicate)) {}
  bool MatchAndExplain(const IoResult& result,
                       ::testing::MatchResultListener* listener) const override {
    *listener << Describe(result);
    return predicate_(result);
  }
  void DescribeTo(std::ostream* os) const override { *os << description_; }

 private:
  std::string description_;
  std::function<bool(const IoResult&)> predicate_;
};

void DoNothing(int) {}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.release();
  }
  return *this;
}

int Fd::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Fd Open(const std::string& path, int flags, mode_t mode) {
  return Fd(::open(path.c_str(), flags | O_CLOEXEC, mode));
}

IoResult Failed(int error) {
  IoResult result;
  result.error = error;
  return result;
}

IoResult Succeeded(ssize_t count, std::string bytes) {
  IoResult result;
  result.count = count;
  result.bytes = std::move(bytes);
  return result;
}

void PrintTo(const IoResult& result, std::ostream* os) { *os << Describe(result); }

IoResult Send(int fd, absl::string_view packet) {
  const ssize_t n = ::write(fd, packet.data(), packet.size());
  if (n < 0) return Failed(errno);
  return Succeeded(n, "");
}

IoResult ReadNow(int fd, size_t buffer_size) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return Failed(errno);
  if (::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return Failed(errno);
  IoResult result = ReadOnce(fd, buffer_size);
  ::fcntl(fd, F_SETFL, flags);
  return result;
}

IoResult Receive(int fd, absl::Duration timeout, size_t buffer_size) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    pollfd entry{.fd = fd, .events = POLLIN, .revents = 0};
    const absl::Duration left = std::max(deadline - absl::Now(), absl::ZeroDuration());
    const int ready = ::poll(&entry, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno != EINTR) return Failed(errno);
    if (ready > 0) return ReadOnce(fd, buffer_size);
    if (absl::Now() >= deadline) return Failed(ETIMEDOUT);
  }
}

::testing::Matcher<const IoResult&> IsPacket(std::string bytes) {
  std::string description = absl::StrCat("reads the packet ", Shown(bytes));
  return ::testing::MakeMatcher(
      new IoMatcher(std::move(description), [bytes = std::move(bytes)](const IoResult& result) {
        return result.error == 0 && result.bytes == bytes;
      }));
}

::testing::Matcher<const IoResult&> Wrote(size_t count) {
  return ::testing::MakeMatcher(
      new IoMatcher(absl::StrCat("writes ", count, " bytes"), [count](const IoResult& result) {
        return result.error == 0 && result.count == static_cast<ssize_t>(count);
      }));
}

::testing::Matcher<const IoResult&> FailsWith(int error) {
  return ::testing::MakeMatcher(
      new IoMatcher(absl::StrCat("fails with errno ", error, " (", std::strerror(error), ")"),
                    [error](const IoResult& result) { return result.error == error; }));
}

void InstallInterruptHandler() {
  struct sigaction action {};
  action.sa_handler = &DoNothing;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // No SA_RESTART: a blocked read() returns EINTR.
  ::sigaction(SIGUSR1, &action, nullptr);
}

bool IsBlockedInRead(pid_t tid, long syscall_number) {
  std::ifstream syscall_file(absl::StrCat("/proc/self/task/", tid, "/syscall"));
  std::string number;
  syscall_file >> number;
  return number == std::to_string(syscall_number);
}

struct CallInThread::State {
  absl::Mutex mu;
  pid_t tid ABSL_GUARDED_BY(mu) = 0;
  std::optional<IoResult> result ABSL_GUARDED_BY(mu);
};

CallInThread::CallInThread(std::function<IoResult()> call, long syscall_number)
    : syscall_number_(syscall_number), state_(std::make_shared<State>()) {
  InstallInterruptHandler();
  thread_ = std::thread([state = state_, call = std::move(call)] {
    {
      absl::MutexLock lock(&state->mu);
      state->tid = static_cast<pid_t>(::syscall(SYS_gettid));
    }
    IoResult result = call();
    absl::MutexLock lock(&state->mu);
    state->result = std::move(result);
  });
}

CallInThread::~CallInThread() {
  for (int attempt = 0; attempt < 50 && !WaitFor(absl::ZeroDuration()).has_value(); ++attempt) {
    Interrupt();
    WaitFor(absl::Milliseconds(100));
  }
  if (WaitFor(absl::ZeroDuration()).has_value()) {
    thread_.join();
  } else {
    std::cerr << "CallInThread: a system call could not be interrupted; leaving its thread "
                 "behind\n";
    thread_.detach();
  }
}

bool CallInThread::WaitUntilBlocked(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    pid_t tid;
    {
      absl::MutexLock lock(&state_->mu);
      if (state_->result.has_value()) return false;  // Not blocked: it returned.
      tid = state_->tid;
    }
    if (tid != 0 && IsBlockedInRead(tid, syscall_number_)) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
}

std::optional<IoResult> CallInThread::WaitFor(absl::Duration timeout) {
  absl::MutexLock lock(&state_->mu);
  auto returned = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return state_->result.has_value(); };
  state_->mu.AwaitWithTimeout(absl::Condition(&returned), timeout);
  return state_->result;
}

void CallInThread::Interrupt() { ::pthread_kill(thread_.native_handle(), SIGUSR1); }

ReadInThread::ReadInThread(int fd, size_t buffer_size)
    : CallInThread([fd, buffer_size] { return ReadOnce(fd, buffer_size); }, SYS_read) {}

}  // namespace ipnfs::tests
