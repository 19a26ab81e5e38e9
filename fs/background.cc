#include "fs/background.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "core/errno_status.h"

namespace ipnfs {
namespace {

// Points `fd` at /dev/null.
void Silence(int fd) {
  const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) return;
  dup2(null, fd);
  if (null != fd) close(null);
}

// The parent: exits 0 once the child says it is ready, 1 if it ends first.
[[noreturn]] void WaitForChild(ScopedFd ready) {
  char byte;
  ssize_t got;
  do {
    got = read(ready.get(), &byte, 1);
  } while (got < 0 && errno == EINTR);
  if (got == 1) _exit(0);
  std::fprintf(stderr, "ipnfs: the daemon ended before its mount was ready\n");
  _exit(1);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Background>> Background::Start(bool foreground) {
  if (foreground) return std::unique_ptr<Background>(new Background(ScopedFd()));
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) return ErrnoError(errno, "cannot detach: pipe");
  ScopedFd read_end(ends[0]);
  ScopedFd write_end(ends[1]);
  const pid_t child = fork();
  if (child < 0) return ErrnoError(errno, "cannot detach: fork");
  if (child > 0) {
    write_end.Reset(-1);
    WaitForChild(std::move(read_end));
  }
  read_end.Reset(-1);
  if (setsid() < 0) return ErrnoError(errno, "cannot detach: setsid");
  if (chdir("/") != 0) return ErrnoError(errno, "cannot detach: chdir /");
  Silence(STDIN_FILENO);
  Silence(STDOUT_FILENO);
  return std::unique_ptr<Background>(new Background(std::move(write_end)));
}

void Background::Ready() {
  absl::MutexLock lock(&mu_);
  if (!ready_.valid()) return;
  const char byte = 1;
  ssize_t written;
  do {
    written = write(ready_.get(), &byte, 1);
  } while (written < 0 && errno == EINTR);
  ready_.Reset(-1);
  Silence(STDERR_FILENO);
}

}  // namespace ipnfs
