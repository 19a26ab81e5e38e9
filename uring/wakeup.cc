#include "uring/wakeup.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/errno_status.h"

namespace ipnfs {

absl::StatusOr<std::shared_ptr<Wakeup>> Wakeup::Create() {
  ScopedFd fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!fd.valid()) return ErrnoError(errno, absl::StrCat("eventfd: ", strerror(errno)));
  return std::shared_ptr<Wakeup>(new Wakeup(std::move(fd)));
}

namespace {
// The Wakeup whose loop runs on this thread, if any.
thread_local const Wakeup* serving = nullptr;
}  // namespace

void Wakeup::ServeOnThisThread() const { serving = this; }

bool Wakeup::Serving() const { return serving == this; }

void Wakeup::Ring() const {
  const uint64_t one = 1;
  // EAGAIN means the counter is saturated: the loop will wake anyway.
  [[maybe_unused]] ssize_t written = write(fd_.get(), &one, sizeof(one));
}

}  // namespace ipnfs
