// The kernel's FUSE-over-io_uring interface (FUSE protocol 7.42, Linux 6.14+), which Debian 12's
// <linux/fuse.h> (7.38) predates. Layouts follow the kernel's include/uapi/linux/fuse.h and
// Documentation/filesystems/fuse-io-uring.rst; the static_asserts pin them.
//
// Protocol in short: the daemon registers ring entries (a header buffer and a payload buffer)
// per queue, one queue per possible CPU, with IORING_OP_URING_CMD on the /dev/fuse fd of a
// 128-byte-SQE ring. A request arrives as the completion of such a command: fuse_in_header in
// `in_out`, the opcode's fixed argument in `op_in`, everything else in the payload. The reply
// goes back in the same buffers (fuse_out_header in `in_out`, the body in the payload) with
// COMMIT_AND_FETCH, which also re-arms the entry for the next request.
#ifndef IPNFS_FS_FUSE_URING_ABI_H_
#define IPNFS_FS_FUSE_URING_ABI_H_

#include <cstddef>
#include <cstdint>

namespace ipnfs::fuse_uring_abi {

// FUSE_INIT flag (bits 32..63 travel in flags2): the server speaks io_uring.
inline constexpr uint64_t kFuseOverIoUring = uint64_t{1} << 41;
// FUSE_INIT flag: flags2 is valid.
inline constexpr uint32_t kFuseInitExt = uint32_t{1} << 30;

inline constexpr size_t kInOutHeaderSize = 128;
inline constexpr size_t kOpInOutSize = 128;
// Bytes of SQE command area a 128-byte SQE offers (128 minus the 48-byte common part).
inline constexpr size_t kSqeCommandSize = 80;

struct EntryInOut {
  uint64_t flags;
  uint64_t commit_id;   // The request's unique, to echo in COMMIT_AND_FETCH.
  uint32_t payload_sz;  // Bytes used in the payload buffer, in either direction.
  uint32_t padding;
  uint64_t reserved;
};

struct RequestHeader {
  char in_out[kInOutHeaderSize];  // fuse_in_header in, fuse_out_header out.
  char op_in[kOpInOutSize];       // The opcode's fixed argument (fuse_write_in...).
  EntryInOut ring_ent_in_out;
};

enum Command : uint32_t {
  kCommandRegister = 1,        // Register an entry and wait for a request.
  kCommandCommitAndFetch = 2,  // Answer the entry's request and wait for the next.
};

// The SQE command area's payload.
struct CommandRequest {
  uint64_t flags;
  uint64_t commit_id;
  uint16_t qid;
  uint8_t padding[6];
};

static_assert(sizeof(EntryInOut) == 32);
static_assert(offsetof(EntryInOut, payload_sz) == 16);
static_assert(sizeof(RequestHeader) == 288);
static_assert(offsetof(RequestHeader, ring_ent_in_out) == 256);
static_assert(sizeof(CommandRequest) == 24);
static_assert(sizeof(CommandRequest) <= kSqeCommandSize);

}  // namespace ipnfs::fuse_uring_abi

#endif  // IPNFS_FS_FUSE_URING_ABI_H_
