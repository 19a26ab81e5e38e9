// PortIo: what a test needs to use a network file as a program would: an RAII descriptor, one
// packet per write() or read(), waits with deadlines (so that a hung daemon fails the test instead
// of hanging it), a read blocked in its own thread, and gmock matchers for the outcomes.
//
// Functions are thread-safe. CallInThread owns one thread; use each object from one thread.
#ifndef IPNFS_TESTS_PORT_IO_H_
#define IPNFS_TESTS_PORT_IO_H_

#include <pthread.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"

namespace ipnfs::tests {

// Largest packet a network carries by default (its MTU), and a read buffer that holds any packet.
inline constexpr size_t kMtu = 65536;
inline constexpr size_t kAnyPacket = kMtu + 4096;

// An owned file descriptor; move-only; closed when destroyed.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();
  void reset();

 private:
  int fd_ = -1;
};

// open(2) with O_CLOEXEC added; invalid (errno set) on failure.
Fd Open(const std::string& path, int flags, mode_t mode = 0644);

// The outcome of one read() or write(): errno, or what it returned.
struct IoResult {
  int error = 0;      // errno; 0 when the call succeeded.
  ssize_t count = 0;  // The call's return value when it succeeded.
  std::string bytes;  // What a read() returned.
};
void PrintTo(const IoResult& result, std::ostream* os);
// An IoResult that failed with `error`, and one that moved `count` bytes (`bytes` read).
IoResult Failed(int error);
IoResult Succeeded(ssize_t count, std::string bytes = "");

// One write() of `packet`.
IoResult Send(int fd, absl::string_view packet);

// One read() of up to `buffer_size` bytes with O_NONBLOCK set on the file for the call: EAGAIN
// when nothing is queued.
IoResult ReadNow(int fd, size_t buffer_size = kAnyPacket);

// Waits up to `timeout` for poll() to report POLLIN, then does one read() of up to
// `buffer_size` bytes. ETIMEDOUT when nothing became readable in time.
IoResult Receive(int fd, absl::Duration timeout = absl::Seconds(5),
                 size_t buffer_size = kAnyPacket);

// Matches a successful read() that returned exactly `bytes`.
::testing::Matcher<const IoResult&> IsPacket(std::string bytes);
// Matches a successful write() of `count` bytes.
::testing::Matcher<const IoResult&> Wrote(size_t count);
// Matches a call that failed with `error` (an errno value).
::testing::Matcher<const IoResult&> FailsWith(int error);

// A blocking system call (read, write) running in its own thread. Interrupts use SIGUSR1, whose
// handler (installed on first use) does nothing and lacks SA_RESTART, so an interrupted call
// returns EINTR.
class CallInThread {
 public:
  // Runs `call`, which makes the system call `syscall_number` (SYS_read, SYS_write).
  CallInThread(std::function<IoResult()> call, long syscall_number);
  // Interrupts a call still blocked (SIGUSR1, repeatedly, for up to 5 s) and joins the thread;
  // a thread that cannot be unblocked is detached and reported on stderr.
  ~CallInThread();
  CallInThread(const CallInThread&) = delete;
  CallInThread& operator=(const CallInThread&) = delete;

  // Waits up to `timeout` until the thread sleeps inside the call (per
  // /proc/self/task/TID/syscall).
  bool WaitUntilBlocked(absl::Duration timeout = absl::Seconds(5));
  // Waits up to `timeout` for the call to return; its outcome, or nullopt if it still blocks.
  std::optional<IoResult> WaitFor(absl::Duration timeout);
  // Sends SIGUSR1 to the thread.
  void Interrupt();

 private:
  struct State;
  const long syscall_number_;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

// A blocking read() of up to `buffer_size` bytes in its own thread.
class ReadInThread : public CallInThread {
 public:
  explicit ReadInThread(int fd, size_t buffer_size = kAnyPacket);
};

// Installs the do-nothing SIGUSR1 handler without SA_RESTART (idempotent).
void InstallInterruptHandler();

// True when thread `tid` of this process is blocked in system call `syscall_number` (SYS_read by
// default), per /proc/self/task/TID/syscall.
bool IsBlockedInRead(pid_t tid, long syscall_number = SYS_read);

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_PORT_IO_H_
