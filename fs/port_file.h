// PortFile: an open network file (one port) as the FUSE layer sees it.
//
// A read that finds nothing queued, and a write that flow control holds back, are parked in the
// core as waiters and answered later from whichever thread frees them; interrupts reach them
// through ParkedRequests. Thread-safe; called from libfuse worker threads.
#ifndef IPNFS_FS_PORT_FILE_H_
#define IPNFS_FS_PORT_FILE_H_

#include <fuse3/fuse_lowlevel.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "core/port.h"
#include "fs/open_file.h"

namespace ipnfs {

class PortFile final : public OpenFile {
 public:
  explicit PortFile(std::unique_ptr<Port> port) : port_(std::move(port)) {}

  Port& port() { return *port_; }

  // One packet, truncated to `size`; parks when nothing is queued.
  void Read(fuse_req_t req, size_t size, Waiting waiting, ParkedRequests& parked) override;
  // One packet of exactly `size` bytes; parks while flow control holds it back.
  void Write(fuse_req_t req, const char* data, size_t size, Waiting waiting,
             ParkedRequests& parked) override;
  void Poll(fuse_req_t req, fuse_pollhandle* handle) override;
  // The tap ioctls (see tun_ioctl.h).
  void Ioctl(fuse_req_t req, unsigned int cmd, const void* in, size_t in_size) override;
  void Cancel(uint64_t id) override { port_->Cancel(id); }
  void CancelAll(int error_number) override { port_->CancelAll(error_number); }

 private:
  std::unique_ptr<Port> port_;
  // Sends each frame of a framed write; replies with the bytes of the frames sent. When flow
  // control holds back the first frame, fails with EAGAIN with Waiting::kNever, else parks that
  // frame and replies with its bytes once it has gone.
  void WriteFrames(fuse_req_t req, const char* data, size_t size, Waiting waiting,
                   ParkedRequests& parked);

  // Virtio-net header length (TUNSETVNETHDRSZ): zeros prepended to reads, stripped from writes.
  std::atomic<uint32_t> vnet_header_{0};
  // Framed I/O (IPNFS_IOC_FRAMED).
  std::atomic<bool> framed_{false};
};

}  // namespace ipnfs

#endif  // IPNFS_FS_PORT_FILE_H_
