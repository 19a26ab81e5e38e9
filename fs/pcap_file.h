// PcapFile: an open /ipn/.pcap/NETWORK, a monitor of the network read as a pcap byte stream.
//
// The first bytes are the pcap global header, then one record (16-byte header, then the packet,
// cut at the snap length) per packet sent in the network. Unlike a network file, this is a byte
// stream: a read returns what fits of what is pending and the rest on the next read, so readers
// that ask for 16 bytes and then N (libpcap over stdio) always see a valid stream. A read with
// nothing pending parks until a packet is sent. Thread-safe.
#ifndef IPNFS_FS_PCAP_FILE_H_
#define IPNFS_FS_PCAP_FILE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/network_config.h"
#include "core/packet.h"
#include "core/port.h"
#include "fs/open_file.h"

namespace ipnfs {

class PcapFile final : public OpenFile {
 public:
  // Monitors through `monitor` (a Network::JoinMonitor port) with the network's `snaplen` (MTU)
  // and link type, fixed at open.
  PcapFile(std::unique_ptr<Port> monitor, uint32_t snaplen, LinkType link_type);

  void Read(fuse_req_t req, size_t size, Waiting waiting, ParkedRequests& parked) override;
  // EBADF: a monitor sends nothing.
  void Write(fuse_req_t req, const char* data, size_t size, Waiting waiting,
             ParkedRequests& parked) override;
  void Poll(fuse_req_t req, fuse_pollhandle* handle) override;
  // ENOTTY.
  void Ioctl(fuse_req_t req, unsigned int cmd, const void* in, size_t in_size) override;
  void Cancel(uint64_t id) override { monitor_->Cancel(id); }
  void CancelAll(int error_number) override { monitor_->CancelAll(error_number); }

  // Appends `packet`'s record to the pending bytes and replies to `req` with up to `size` of
  // them. Called by the read waiter, with no lock held.
  void ReplyWithRecord(fuse_req_t req, size_t size, const Packet& packet);

 private:
  // Takes up to `size` pending bytes.
  std::string TakeLocked(size_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::unique_ptr<Port> monitor_;
  const uint32_t snaplen_;
  absl::Mutex mu_;
  std::string pending_ ABSL_GUARDED_BY(mu_);  // Bytes of the stream not read yet.
};

}  // namespace ipnfs

#endif  // IPNFS_FS_PCAP_FILE_H_
