// ScopedFd: owns one file descriptor and closes it when destroyed. Move-only.
//
// Not thread-safe by itself: whoever owns the ScopedFd decides which thread uses it.
#ifndef IPNFS_TAP_SCOPED_FD_H_
#define IPNFS_TAP_SCOPED_FD_H_

#include <unistd.h>

#include <utility>

namespace ipnfs {

class ScopedFd {
 public:
  ScopedFd() = default;
  // Takes ownership of `fd` (-1 for none).
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(ScopedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept {
    if (this != &other) Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() { Reset(-1); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // Gives up the descriptor without closing it: the caller owns it now.
  [[nodiscard]] int Release() { return std::exchange(fd_, -1); }

  // Closes the descriptor held now, if any, and takes `fd` instead.
  void Reset(int fd) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace ipnfs

#endif  // IPNFS_TAP_SCOPED_FD_H_
