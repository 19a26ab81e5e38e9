// FlowControl: flow control "block" in one network: the sends waiting for room, oldest first, and
// the decisions about holding a sender back.
//
// Under "block" a full receiver holds back the packets sent to it, until it reads or leaves, or
// until it has read nothing for the network's stall time (a stalled receiver is skipped and its
// packets dropped, as under "drop"). A sender's packets stay in order: once one waits, the next
// ones wait behind it. A policy that chooses by room (anycast) may find no receiver with room; the
// packet then waits unrouted and is routed again once a receiver may take it.
//
// Owned by its Network and part of its state: every method runs with the network's lock held
// (Network::flow_ is guarded by it) and reads the network's ports, settings and policy. It never
// completes a waiter itself: what it owes goes to the caller's Completions.
#ifndef IPNFS_CORE_FLOW_CONTROL_H_
#define IPNFS_CORE_FLOW_CONTROL_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/completions.h"
#include "core/network.h"
#include "core/packet.h"
#include "core/port.h"
#include "core/waiters.h"
#include "policies/policy.h"

namespace ipnfs {

// What the policy's routing left a packet with.
enum class Destinations {
  kChosen,       // Its receivers (perhaps none).
  kNoneWithRoom  // Under "block", no receiver had room (Route returned Unavailable).
};

class FlowControl {
 public:
  FlowControl() = default;
  FlowControl(const FlowControl&) = delete;
  FlowControl& operator=(const FlowControl&) = delete;

  // Asks `network`'s policy where a packet of `bytes` from `from` goes at `now`, showing it which
  // receivers have room and which hold senders back.
  absl::Status Route(const Network& network, PortId from, absl::Span<const uint8_t> bytes,
                     absl::Time now, std::vector<PortId>* destinations) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(network.mu_);

  // Under "block": true when a packet from `from` must wait, because no receiver had room, `from`
  // already has sends waiting, or a receiver among `destinations` holds it back at `now`.
  bool MustWait(const Network& network, const Port& from, Destinations chosen,
                const std::vector<PortId>& destinations, absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(network.mu_);

  // Parks `waiter`'s send of `packet` from `from` (to `destinations`, or to be routed again) until
  // Release() lets it go, or Cancel() or CancelAll() fail it.
  void Park(Port& from, PacketRef packet, Destinations chosen, std::vector<PortId> destinations,
            std::unique_ptr<SendWaiter> waiter);

  // Sends the waiting packets that may go at `now`, oldest first per sender, and completes their
  // waiters; fails those that the policy now refuses. Then wakes the pollers of senders that may
  // write.
  void Release(Network& network, absl::Time now, Completions& done)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(network.mu_);

  // What poll reports as POLLOUT for `port` at `now`: a write now would not wait.
  bool Writable(const Network& network, const Port& port, absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(network.mu_);

  // Fails the waiting send `waiter_id` of `port` with EINTR, and returns true; false when `port`
  // has no such send.
  bool Cancel(Port& port, uint64_t waiter_id, Completions& done);
  // Fails every waiting send of `port` with `error_number`.
  void CancelAll(Port& port, int error_number, Completions& done);

 private:
  class QueueRoom;
  // A packet waiting for room, with its sender and waiter.
  struct BlockedSend {
    Port* from;
    PacketRef packet;
    Destinations chosen;
    std::vector<PortId> destinations;  // When chosen is kChosen.
    std::unique_ptr<SendWaiter> waiter;
  };

  // True when `port` cannot take a packet at `now` and, under "block", holds senders back.
  bool HoldsBack(const Network& network, const Port& port, absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(network.mu_);
  // True when a receiver among `destinations` holds a packet back at `now`.
  bool HeldBack(const Network& network, const std::vector<PortId>& destinations,
                absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(network.mu_);
  // Routes `send` again if it has no destinations yet: OK once it has them, Unavailable while it
  // must still wait, or the error that refuses it.
  absl::Status RouteAgain(const Network& network, BlockedSend& send, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(network.mu_);
  // Wakes the pollers of senders that may write at `now` (under "block" only).
  void NotifyWriters(Network& network, absl::Time now, Completions& done)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(network.mu_);

  std::deque<BlockedSend> blocked_;  // Oldest first. Guarded by the network's lock.
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_FLOW_CONTROL_H_
