// FuseUringQueue: one queue of FUSE-over-io_uring (see fuse_uring.h): a handler on its own
// uring::EventLoop, whose thread is pinned to the queue's CPU, with the ring entries it registered
// with the kernel for that CPU's requests.
//
// Threads: the queue's loop thread serves requests and is the only one that touches its entries'
// registration; Answer() and Wake() may be called from any thread. Owned by FuseUring, which
// creates all queues before it starts any (a running queue may wake the others).
#ifndef IPNFS_FS_FUSE_URING_QUEUE_H_
#define IPNFS_FS_FUSE_URING_QUEUE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "fs/fuse_uring.h"
#include "fs/fuse_uring_abi.h"
#include "uring/event_loop.h"

namespace ipnfs {

class FuseUringQueue;

// One ring entry: the header and payload buffers registered with the kernel.
struct FuseUringEntry {
  FuseUringQueue* queue = nullptr;
  uint16_t index = 0;  // In its queue; the object of its completion tags.
  fuse_uring_abi::RequestHeader header{};
  char* buffer = nullptr;  // FuseUringQueue::kPrefix bytes, then the payload.
  iovec iov[2]{};
  uint64_t commit_id = 0;  // Of the request it holds.
};

class FuseUringQueue final : public EventLoop::Handler {
 public:
  // Room before the payload for the fuse_in_header and the opcode's argument, so that a request
  // reaches the dispatcher as one contiguous buffer without copying its payload.
  static constexpr size_t kPrefix = 256;

  FuseUringQueue(FuseUring& owner, uint16_t qid) : owner_(owner), qid_(qid) {}
  // Stops the loop first: the entries' buffers outlive every request that uses them.
  ~FuseUringQueue() override;

  // Starts the loop thread, which registers the first entries. Fails if the thread or the ring
  // cannot be made.
  absl::Status Start();
  // Ends the loop thread. Requests still unanswered are answered by the kernel (ENOTCONN) when
  // the connection ends.
  void Stop();
  // Commits `entry`'s reply, already in its buffers. Any thread.
  void Answer(FuseUringEntry* entry);
  // Makes the queue look at its entries (after parked requests grew). Any thread.
  void Wake();

  // EventLoop::Handler, on the queue's thread.
  void OnCompletion(const CompletionTag& tag, int result) override;
  void AfterBatch() override;
  // Registered entries stay with the kernel until the ring closes: nothing to wait for.
  bool Idle() const override { return true; }

 private:
  enum class Op : uint8_t {
    kEntry = 1,  // A registration or commit of entry `object` completed: a request arrived.
    kCommit,     // Another queue's thread answered entry `object` (IORING_OP_MSG_RING).
    kMessage,    // A failed message to another queue.
  };

  absl::Status Setup(EventLoop& loop);
  void OnEntry(FuseUringEntry* entry, int result);
  void Serve(FuseUringEntry* entry);
  // Registers entries until kSpare more than all parked requests wait in the kernel.
  void TopUp();
  FuseUringEntry* AddEntry();
  size_t BufferSize() const;
  void SubmitCommand(FuseUringEntry* entry, uint32_t command);
  // Queue thread: posts a kCommit completion for `entry` to the ring of the entry's queue.
  void Message(const FuseUringEntry& entry);
  // Any thread: the running loop.
  EventLoop& loop() const { return *serving_.load(std::memory_order_acquire); }

  FuseUring& owner_;
  const uint16_t qid_;
  std::unique_ptr<EventLoop> loop_;  // Owns the thread; set once Start() returns.
  // Published by Setup on the queue's thread (release), for Answer() from any thread (acquire):
  // requests may arrive, and be answered elsewhere, before Start() has returned.
  std::atomic<EventLoop*> serving_{nullptr};
  int ring_fd_ = -1;     // Written before serving_ is published, then constant.
  uint8_t handler_ = 0;  // Likewise.
  // Queue thread only.
  Ring* ring_ = nullptr;
  std::vector<std::unique_ptr<FuseUringEntry>> entries_;
  int armed_ = 0;      // Entries registered or committed and not yet completed.
  bool dead_ = false;  // The connection is gone or refuses io_uring.
};

}  // namespace ipnfs

#endif  // IPNFS_FS_FUSE_URING_QUEUE_H_
