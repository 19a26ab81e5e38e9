// Completions: the replies a network operation owes its waiters, sent once the network's lock is
// released.
//
// A waiter may reply to the kernel from Complete(), and the kernel may then release the object
// the reply refers to; so no waiter is ever completed with the lock held. An operation declares a
// Completions before its lock guard, records what it owes while it holds the lock, and the
// destructor, which runs after the guard's, pays it all: reads (single packets, then batches),
// failed reads, sends, failed sends, then poll notifications, each kind in the order recorded.
//
// Owns the waiters handed to it. Thread-compatible: one per operation, on the caller's stack.
#ifndef IPNFS_CORE_COMPLETIONS_H_
#define IPNFS_CORE_COMPLETIONS_H_

#include <memory>
#include <utility>
#include <vector>

#include "core/packet.h"
#include "core/waiters.h"

namespace ipnfs {

class Completions {
 public:
  Completions() = default;
  Completions(const Completions&) = delete;
  Completions& operator=(const Completions&) = delete;
  // Completes, fails and notifies everything recorded.
  ~Completions() {
    for (auto& [waiter, packet] : reads_) waiter->Complete(*packet);
    for (auto& [waiter, packets] : batches_) waiter->CompleteFrames(std::move(packets));
    for (auto& [waiter, error_number] : read_failures_) waiter->Fail(error_number);
    for (auto& waiter : sends_) waiter->Complete();
    for (auto& [waiter, error_number] : send_failures_) waiter->Fail(error_number);
    for (auto& poll : polls_) poll->Notify();
  }

  // `waiter` gets `packet` (ReadWaiter::Complete).
  void Complete(std::unique_ptr<ReadWaiter> waiter, PacketRef packet) {
    reads_.emplace_back(std::move(waiter), std::move(packet));
  }
  // A framed `waiter` gets `packets` (ReadWaiter::CompleteFrames).
  void Complete(std::unique_ptr<ReadWaiter> waiter, std::vector<PacketRef> packets) {
    batches_.emplace_back(std::move(waiter), std::move(packets));
  }
  void Fail(std::unique_ptr<ReadWaiter> waiter, int error_number) {
    read_failures_.emplace_back(std::move(waiter), error_number);
  }
  void Complete(std::unique_ptr<SendWaiter> waiter) { sends_.push_back(std::move(waiter)); }
  void Fail(std::unique_ptr<SendWaiter> waiter, int error_number) {
    send_failures_.emplace_back(std::move(waiter), error_number);
  }
  void Notify(std::unique_ptr<PollWaiter> poll) { polls_.push_back(std::move(poll)); }

 private:
  std::vector<std::pair<std::unique_ptr<ReadWaiter>, PacketRef>> reads_;
  std::vector<std::pair<std::unique_ptr<ReadWaiter>, std::vector<PacketRef>>> batches_;
  std::vector<std::pair<std::unique_ptr<ReadWaiter>, int>> read_failures_;
  std::vector<std::unique_ptr<SendWaiter>> sends_;
  std::vector<std::pair<std::unique_ptr<SendWaiter>, int>> send_failures_;
  std::vector<std::unique_ptr<PollWaiter>> polls_;
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_COMPLETIONS_H_
