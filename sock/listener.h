// SocketLoop::Listener: one listening socket of a face as the SocketLoop keeps it, with its accept
// kept armed. Private to the SocketLoop's sources; loop thread only.
#ifndef IPNFS_SOCK_LISTENER_H_
#define IPNFS_SOCK_LISTENER_H_

#include <linux/time_types.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "core/face_backend.h"
#include "sock/socket_loop.h"
#include "uring/scoped_fd.h"

namespace ipnfs {

// "seqpacket" or "stream", for logs.
inline const char* FaceName(FaceKind kind) {
  return kind == FaceKind::kSeqpacket ? "seqpacket" : "stream";
}

struct SocketLoop::Listener {
  Listener(ino_t ino, FaceKind kind, ScopedFd socket)
      : ino(ino), kind(kind), socket(std::move(socket)) {}

  const ino_t ino;
  const FaceKind kind;
  const ScopedFd socket;

  // Event loop bookkeeping.
  uint16_t index = 0;         // Of its entry in the loop's table.
  uint32_t generation = 0;    // Of that entry.
  int in_flight = 0;          // Requests on this listener not completed yet.
  bool closing = false;       // Being closed: nothing new is issued.
  bool pausing = false;       // A pause (kRetry timeout) is armed.
  int failures = 0;           // Accepts failed in a row for want of descriptors or memory.
  __kernel_timespec pause{};  // Referenced by the armed pause.
};

}  // namespace ipnfs

#endif  // IPNFS_SOCK_LISTENER_H_
