// FaceBackend: gives every network faces beside its file that skip FUSE on the data path: the
// Unix sockets /.seqpacket/PATH and /.stream/PATH. The core only calls this interface; sock/
// implements it (binding each socket through the mount, so that it shows up in the namespace).
//
// Thread-safe. The namespace calls Expose and Withdraw with its lock held: they only queue work,
// never wait for it and never call back into the namespace.
#ifndef IPNFS_CORE_FACE_BACKEND_H_
#define IPNFS_CORE_FACE_BACKEND_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "core/network.h"

namespace ipnfs {

// The socket faces of a network. The values are those of the view bits of their inode numbers
// (see namespace_node.h): do not renumber.
enum class FaceKind : uint8_t {
  kSeqpacket = 1,  // /.seqpacket/PATH: SOCK_SEQPACKET, one message per packet.
  kStream = 2,     // /.stream/PATH: SOCK_STREAM, each packet after its 4-byte big-endian length.
};
inline constexpr FaceKind kFaceKinds[] = {FaceKind::kSeqpacket, FaceKind::kStream};

class FaceBackend {
 public:
  virtual ~FaceBackend() = default;

  // Network `ino` has a name from now on (made, or restored at start-up): its faces appear soon,
  // once the backend has bound them through the mount (see Namespace::BindFace).
  virtual void Expose(ino_t ino, const std::shared_ptr<Network>& network) = 0;
  // Network `ino` lost its name: its faces go, and every connection to them leaves the network.
  virtual void Withdraw(ino_t ino) = 0;

  // Runs `done` on another thread once every face exposed so far is bound (or failed to be): the
  // FUSE layer answers the creation of a network only then, so that its sockets are there when
  // the creator goes on. Never blocks.
  virtual void WhenExposed(absl::AnyInvocable<void()> done) = 0;

  // True when the FUSE request from thread `tid` is the backend binding face `kind` of network
  // `ino`: only then may a socket be made in the face trees (everyone else gets EROFS there).
  virtual bool IsBinding(pid_t tid, ino_t ino, FaceKind kind) const = 0;
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_FACE_BACKEND_H_
