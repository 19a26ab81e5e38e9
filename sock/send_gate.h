// SendGate: how a socket connection sends into a network under flow control "block" without any
// thread waiting: each send carries a waiter; when the network parks it, the connection stops
// reading until the waiter completes, and the completion (on any thread) comes back to the event
// loop through a ResumeRelay as a posted task.
//
// ResumeRelay: shared by the SocketLoop and every waiter of its connections, which may outlive
// it; Resume() may be called from any thread and does nothing once the SocketLoop detached it.
// SendGate: one per connection, shared with that connection's waiter in flight; Send() runs on
// the loop thread, the waiter's completion on any thread. Thread-safe as described.
#ifndef IPNFS_SOCK_SEND_GATE_H_
#define IPNFS_SOCK_SEND_GATE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/packet.h"
#include "core/port.h"
#include "uring/event_loop.h"

namespace ipnfs {

class ResumeRelay : public std::enable_shared_from_this<ResumeRelay> {
 public:
  // Runs on the loop thread for connection (index, generation) whose parked send completed.
  using Resume = std::function<void(uint16_t index, uint32_t generation)>;

  ResumeRelay(EventLoop& loop, Resume resume) : loop_(&loop), resume_(std::move(resume)) {}

  // Any thread: posts resume(index, generation) to the loop, unless detached or ended.
  void Post(uint16_t index, uint32_t generation);
  // From now on Post() does nothing: the loop's owner is going.
  void Detach();

 private:
  absl::Mutex mu_;
  EventLoop* loop_ ABSL_GUARDED_BY(mu_);
  const Resume resume_;  // Called on the loop thread only, while the loop runs.
};

class SendGate : public std::enable_shared_from_this<SendGate> {
 public:
  // The gate of connection (index, generation), resumed through `relay`.
  SendGate(std::shared_ptr<ResumeRelay> relay, uint16_t index, uint32_t generation)
      : relay_(std::move(relay)), index_(index), generation_(generation) {}

  // Loop thread, when not parked: sends `packet` from `port` at `now`, with a waiter the network
  // may park. True when the send is over (sent, or refused and counted by the network); false when
  // it is parked: the relay then posts the resumption once it completes, and Resumed() must be
  // called before the next Send().
  bool Send(Port& port, PacketRef packet, absl::Time now);

  // Loop thread: the resumption posted for a parked send arrived.
  void Resumed() { state_.store(kIdle, std::memory_order_release); }

 private:
  class Waiter;
  enum State : int {
    kIdle,     // No send in flight.
    kSending,  // Inside Send(): a completion now is synchronous.
    kDone,     // Completed while in Send() (perhaps by another thread right after parking).
    kParked,   // Send() returned false: the completion posts the resumption.
  };

  // Any thread: the waiter of the send in flight completed or failed.
  void Finished();

  const std::shared_ptr<ResumeRelay> relay_;
  const uint16_t index_;
  const uint32_t generation_;
  std::atomic<int> state_{kIdle};
};

}  // namespace ipnfs

#endif  // IPNFS_SOCK_SEND_GATE_H_
