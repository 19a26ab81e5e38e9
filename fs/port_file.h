// PortFile: an open network file (one port) as the FUSE layer sees it: read, write, poll, release.
//
// A read that finds nothing queued, and a write that flow control holds back, are parked in the
// core as waiters and answered later from whichever thread frees them. Interrupts (a signal to the
// caller) reach parked requests through the ParkedRequests registry, which maps a request to its
// port without trusting a pointer the kernel may have released. Thread-safe; called from libfuse
// worker threads.
#ifndef IPNFS_FS_PORT_FILE_H_
#define IPNFS_FS_PORT_FILE_H_

#include <fuse3/fuse_lowlevel.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "core/port.h"

namespace ipnfs {

class PortFile;

// The requests that may be parked, by request, so that an interrupt can find their port.
class ParkedRequests {
 public:
  void Add(fuse_req_t req, std::shared_ptr<PortFile> file);
  void Remove(fuse_req_t req);
  // Cancels `req` (EINTR) if it is still parked.
  void Interrupt(fuse_req_t req);
  // Fails every parked request with `error_number` (at unmount, so none is left unanswered).
  void CancelAll(int error_number);

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<fuse_req_t, std::shared_ptr<PortFile>> requests_ ABSL_GUARDED_BY(mu_);
};

class PortFile : public std::enable_shared_from_this<PortFile> {
 public:
  explicit PortFile(std::unique_ptr<Port> port) : port_(std::move(port)) {}

  Port& port() { return *port_; }

  // FUSE read: one packet, truncated to `size`; parks when nothing is queued.
  void Read(fuse_req_t req, size_t size, bool nonblocking, ParkedRequests& parked);
  // FUSE write: one packet of exactly `size` bytes; parks while flow control holds it back.
  void Write(fuse_req_t req, const char* data, size_t size, bool nonblocking,
             ParkedRequests& parked);
  // FUSE poll.
  void Poll(fuse_req_t req, fuse_pollhandle* handle);
  // FUSE ioctl: the tap ioctls (see tun_ioctl.h).
  void Ioctl(fuse_req_t req, unsigned int cmd, const void* in, size_t in_size);

 private:
  // Makes `req` reachable by interrupts before the core can see (and answer) it.
  void Register(fuse_req_t req, ParkedRequests& parked);

  std::unique_ptr<Port> port_;
  // Virtio-net header length (TUNSETVNETHDRSZ): zeros prepended to reads, stripped from writes.
  std::atomic<uint32_t> vnet_header_{0};
};

}  // namespace ipnfs

#endif  // IPNFS_FS_PORT_FILE_H_
