#include "fs/fuse_transport.h"

#include <linux/fuse.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/errno_status.h"
#include "core/log.h"
#include "fs/fuse_uring_abi.h"

namespace ipnfs {
namespace {

namespace abi = fuse_uring_abi;

constexpr char kEnableUring[] = "/sys/module/fuse/parameters/enable_uring";

// The one transport of this process (see the header).
std::atomic<FuseTransport*> g_transport{nullptr};

size_t TotalLength(const struct iovec* iov, int count) {
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  return total;
}

// The kernel's largest request or reply body for this connection (its ring payload minimum).
size_t PayloadSize(const fuse_init_out& reply) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t pages = (reply.flags & FUSE_MAX_PAGES) ? reply.max_pages : 32;
  return std::max({size_t{FUSE_MIN_READ_BUFFER}, size_t{reply.max_write}, pages * page});
}

}  // namespace

absl::StatusOr<FuseUringMode> ParseFuseUringMode(absl::string_view text) {
  if (text == "auto") return FuseUringMode::kAuto;
  if (text == "on") return FuseUringMode::kOn;
  if (text == "off") return FuseUringMode::kOff;
  return absl::InvalidArgumentError(
      absl::StrCat("--fuse_uring must be auto, on or off, not '", text, "'"));
}

absl::Status PrepareFuseUring(FuseUringMode mode) {
  if (mode != FuseUringMode::kOn) return absl::OkStatus();
  std::ifstream in(kEnableUring);
  std::string value;
  if (!std::getline(in, value)) {
    return ErrnoError(
        EOPNOTSUPP, absl::StrCat("this kernel has no FUSE-over-io_uring (no ", kEnableUring, ")"));
  }
  if (value == "Y" || value == "1") return absl::OkStatus();
  std::ofstream out(kEnableUring);
  out << "Y" << std::flush;
  if (!out) {
    return ErrnoError(EPERM, absl::StrCat("FUSE-over-io_uring is off and cannot be turned on (",
                                          kEnableUring, " needs root)"));
  }
  IPN_LOG(INFO) << "turned FUSE-over-io_uring on (" << kEnableUring << "=Y)";
  return absl::OkStatus();
}

FuseTransport::FuseTransport(fuse_session* session, const TransportOptions& options)
    : session_(session), options_(options) {}

absl::StatusOr<std::unique_ptr<FuseTransport>> FuseTransport::Install(
    fuse_session* session, const TransportOptions& options) {
  auto transport = std::unique_ptr<FuseTransport>(new FuseTransport(session, options));
  FuseTransport* expected = nullptr;
  if (!g_transport.compare_exchange_strong(expected, transport.get())) {
    return absl::FailedPreconditionError("one FUSE transport per process");
  }
  fuse_custom_io io{};
  io.read = &Read;
  io.writev = &Writev;
  if (const int result = fuse_session_custom_io(session, &io, fuse_session_fd(session));
      result != 0) {
    g_transport.store(nullptr);
    return ErrnoError(-result, "cannot install the FUSE transport");
  }
  return transport;
}

FuseTransport::~FuseTransport() {
  Stop();
  g_transport.store(nullptr);
}

void FuseTransport::Stop() {
  if (uring_ != nullptr) uring_->Stop();
}

ssize_t FuseTransport::Read(int fd, void* buffer, size_t size, void* /*userdata*/) {
  const ssize_t result = ::read(fd, buffer, size);
  if (result < static_cast<ssize_t>(sizeof(fuse_in_header))) return result;
  fuse_in_header in;
  std::memcpy(&in, buffer, sizeof(in));
  if (in.opcode != FUSE_INIT) return result;
  FuseTransport& self = *g_transport.load();
  fuse_init_in init{};
  std::memcpy(&init, static_cast<char*>(buffer) + sizeof(in),
              std::min(sizeof(init), static_cast<size_t>(result) - sizeof(in)));
  uint64_t flags = init.flags;
  if (flags & abi::kFuseInitExt) flags |= uint64_t{init.flags2} << 32;
  self.uring_offered_.store((flags & abi::kFuseOverIoUring) != 0);
  self.init_unique_.store(in.unique);
  return result;
}

ssize_t FuseTransport::Writev(int fd, struct iovec* iov, int count, void* /*userdata*/) {
  FuseTransport& self = *g_transport.load();
  if (FuseUring* uring = self.active_.load(std::memory_order_acquire);
      uring != nullptr && uring->Reply(iov, count)) {
    return static_cast<ssize_t>(TotalLength(iov, count));
  }
  fuse_out_header out;
  std::memcpy(&out, iov[0].iov_base, sizeof(out));
  if (out.unique != 0 && out.unique == self.init_unique_.load()) {
    return self.WriteInitReply(fd, iov, count);
  }
  return WriteToDevice(fd, iov, count);
}

ssize_t FuseTransport::WriteToDevice(int fd, const struct iovec* iov, int count) {
  if (count <= IOV_MAX) return ::writev(fd, iov, count);
  // A reply of more pieces than writev takes (a framed read of many small packets): one copy.
  std::vector<char> gathered;
  gathered.reserve(TotalLength(iov, count));
  for (int i = 0; i < count; ++i) {
    const char* bytes = static_cast<const char*>(iov[i].iov_base);
    gathered.insert(gathered.end(), bytes, bytes + iov[i].iov_len);
  }
  return ::write(fd, gathered.data(), gathered.size());
}

ssize_t FuseTransport::WriteInitReply(int fd, struct iovec* iov, int count) {
  fuse_out_header out;
  std::memcpy(&out, iov[0].iov_base, sizeof(out));
  const bool wanted = options_.uring != FuseUringMode::kOff;
  if (out.error != 0 || count != 2 || iov[1].iov_len > sizeof(fuse_init_out) || !wanted) {
    return ::writev(fd, iov, count);
  }
  if (!uring_offered_.load()) {
    if (options_.uring == FuseUringMode::kOn) {
      IPN_LOG(WARNING) << "the kernel did not offer FUSE-over-io_uring: serving /dev/fuse";
    } else {
      IPN_LOG(INFO) << "FUSE requests through /dev/fuse (" << kEnableUring << " is off)";
    }
    return ::writev(fd, iov, count);
  }
  fuse_init_out reply{};
  std::memcpy(&reply, iov[1].iov_base, iov[1].iov_len);
  // Rings first: the kernel holds every request once it is promised io_uring, until each
  // queue has registered (which the queues retry until this reply has been processed).
  FuseUring::Options uring_options{
      .fuse_fd = fd, .payload_size = PayloadSize(reply), .busy_poll = options_.busy_poll};
  fuse_session* session = session_;
  absl::StatusOr<std::unique_ptr<FuseUring>> uring =
      FuseUring::Start(uring_options, [session](void* request, size_t size) {
        fuse_buf buffer{};
        buffer.size = size;
        buffer.mem = request;
        fuse_session_process_buf(session, &buffer);
      });
  if (!uring.ok()) {
    IPN_LOG(WARNING) << "no FUSE-over-io_uring (" << uring.status().message()
                     << "): serving /dev/fuse";
    return ::writev(fd, iov, count);
  }
  uring_ = *std::move(uring);
  reply.flags |= abi::kFuseInitExt;
  reply.flags2 |= static_cast<uint32_t>(abi::kFuseOverIoUring >> 32);
  // Replies may come through the rings as soon as the kernel has this one.
  active_.store(uring_.get(), std::memory_order_release);
  struct iovec amended[2] = {iov[0], {.iov_base = &reply, .iov_len = iov[1].iov_len}};
  const ssize_t written = ::writev(fd, amended, 2);
  if (written >= 0) {
    IPN_LOG(INFO) << "FUSE requests through io_uring: " << uring_->queue_count()
                  << " queues, payload " << uring_options.payload_size << " bytes";
  }
  return written;
}

}  // namespace ipnfs
