// Endpoint: one benchmark client's attachment to the network under test (scripts/bench.sh).
//
// One implementation per kind of path, chosen by a spec "KIND:ARG":
//   file:PATH    an ipnfs network file, one write(2) per frame, one read(2) per frame
//   framed:PATH  the same after IPNFS_IOC_FRAMED: a batch of frames per write, as many per read
//                as are queued (2-byte big-endian length before each frame)
//   vde:URL      libvdeplug (vde_send/vde_recv), e.g. vde:///tmp/sw
//   tap:NAME     an existing (persistent) tap interface through /dev/net/tun, one frame per
//                write/read: the bridge peer
//   packet:NAME  an AF_PACKET socket on interface NAME: frames sent go out of NAME, frames the
//                kernel receives on NAME come in (the daemon's taps)
//   unix:PATH    an AF_UNIX datagram socket: the receiver binds PATH, the sender connects to it
//   seqpacket:PATH  a SOCK_SEQPACKET connection to PATH (an ipnfs socket face, /MNT/.seqpacket/..):
//                one send(2) per frame, one recv(2) per frame, like libvdeplug's one call per frame
//   stream:PATH  a SOCK_STREAM connection to PATH (/MNT/.stream/...), each frame after its length
//                as 4 bytes big-endian (QEMU's -netdev stream): one send(2) of length and frame
//                per frame; receives read what is queued (up to 64 KiB) and take every whole frame
//                in it, keeping a partial one for the next read
// Setup failures end the process with a message (these are benchmark tools); per-frame trouble
// comes back as -errno. Single-threaded: one Endpoint belongs to one thread.
#ifndef IPNFS_BENCH_ENDPOINT_H_
#define IPNFS_BENCH_ENDPOINT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace ipnfs::bench {

using Frame = std::span<const uint8_t>;
using FrameFn = std::function<void(Frame)>;

enum class Role { kSender, kReceiver };

struct EndpointOptions {
  Role role = Role::kReceiver;
  // The size of the frames the benchmark sends; framed receivers size their buffer for
  // `batch` of them.
  size_t frame_size = 64;
  int batch = 64;
};

class Endpoint {
 public:
  virtual ~Endpoint() = default;

  // Sends `copies` copies of `frame`. Returns how many went (at least 1), or -errno when none
  // did. Blocks while the path pushes back.
  virtual int Send(Frame frame, int copies) = 0;

  // Waits for traffic and calls `on_frame` for each frame one receive call returns. Returns the
  // number of frames, or -errno (-EINTR when a signal interrupted the wait).
  virtual int Receive(const FrameFn& on_frame) = 0;
};

// Opens the endpoint `spec` (see above), or exits with a message.
std::unique_ptr<Endpoint> OpenEndpoint(const std::string& spec, const EndpointOptions& options);

}  // namespace ipnfs::bench

#endif  // IPNFS_BENCH_ENDPOINT_H_
