// Port: one open of a network file. It sends, receives, or both, according to its open mode.
//
// Created by Network::Join and owned by whoever opened it (the FUSE layer's file handle); the port
// keeps its network alive, and leaves it when destroyed. The port serves its own reads (its queue,
// parked reads and poll waiter); a send goes through the network, which routes it. All state below
// is guarded by the network's lock, which the methods take; they may be called from any thread.
#ifndef IPNFS_CORE_PORT_H_
#define IPNFS_CORE_PORT_H_

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/offload.h"
#include "core/port_queue.h"
#include "core/waiters.h"
#include "policies/policy.h"

namespace ipnfs {

class Network;

// Who opened the port, for introspection.
struct PortOwner {
  pid_t pid = 0;
  uid_t uid = 0;
  std::string command;
};

struct PortCounters {
  uint64_t packets_in = 0;  // Delivered to this port's reader.
  uint64_t bytes_in = 0;
  uint64_t packets_out = 0;  // Sent from this port.
  uint64_t bytes_out = 0;
  uint64_t dropped = 0;    // Not queued because the queue was full.
  uint64_t truncated = 0;  // Read into a buffer shorter than the packet.
};

struct PollState {
  bool readable = false;
  bool writable = false;
};

// What a port gets of a packet with offloads left to do (see core/segmentation.h).
enum class OffloadDelivery {
  kResolved,  // The ordinary frames it stands for (the default).
  kAsIs,      // The packet as it is: for an adapter that hands the offload on to the kernel (a tap
              // with virtio-net headers).
};

class Port {
 public:
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;
  // Leaves the network; fails any request still parked with EBADF. Senders that the port held
  // back are released at the latest time the network was given (a destructor takes no `now`).
  ~Port();

  PortId id() const { return id_; }
  PortMode mode() const { return mode_; }
  // A monitor receives a copy of every packet sent in the network and is never a destination of
  // the policy (see Network::JoinMonitor).
  bool monitor() const { return role_ == Role::kMonitor; }
  const PortOwner& owner() const { return owner_; }
  Network& network() const { return *network_; }

  // Sends one packet of exactly `bytes` at `now`, never waiting: EMSGSIZE above the MTU, EBADF
  // from a port that may not send, EAGAIN when flow control would make it wait. An empty packet
  // sends nothing.
  absl::Status Send(absl::Span<const uint8_t> bytes, absl::Time now);

  // The same for a packet with `offload` left to do (from a tap with offloads). The MTU applies to
  // the largest frame it resolves to (one segment of a GSO packet); EINVAL when it cannot be
  // resolved (see core/segmentation.h) or is over Offload::kMaxPacketBytes.
  absl::Status Send(absl::Span<const uint8_t> bytes, const Offload& offload, absl::Time now);

  // The same for a packet the caller made (with Packet::Create or Packet::Adopt), with its offload:
  // no further copy.
  absl::Status SendPacket(PacketRef packet, absl::Time now);

  // The same for a packet the caller made, with a waiter as below: an adapter that stops reading
  // its sender while flow control holds a packet back (a socket face) parks `waiter` and goes on
  // once it completes.
  void SendPacket(PacketRef packet, absl::Time now, std::unique_ptr<SendWaiter> waiter,
                  Waiting waiting);

  // How this port gets packets with offloads; OffloadDelivery::kResolved until set.
  void SetOffloadDelivery(OffloadDelivery delivery);

  // The same as Send(bytes, now), but when flow control ("block") makes the send wait and
  // `waiting` is Waiting::kPark, `waiter` is parked and completed once its receivers have room (or
  // stalled); with Waiting::kNever it fails with EAGAIN. Always completes or fails `waiter`, now
  // or later.
  void Send(absl::Span<const uint8_t> bytes, absl::Time now, std::unique_ptr<SendWaiter> waiter,
            Waiting waiting);

  // Completes `waiter` at `now` with the oldest queued packet, or, when nothing is queued, fails it
  // with EAGAIN (Waiting::kNever) or parks it until a packet arrives (Waiting::kPark). Never
  // blocks the caller.
  void Receive(std::unique_ptr<ReadWaiter> waiter, Waiting waiting, absl::Time now);

  // Moves up to `max_packets` queued packets to the end of `out`, oldest first, and counts them as
  // read at `now`, under one lock: a batched non-blocking Receive for adapters that move many
  // packets (the tap backend). Returns how many it moved; 0 when nothing is queued (or the port may
  // not receive). Never parks anything.
  size_t TakeQueued(size_t max_packets, std::vector<PacketRef>& out, absl::Time now);

  // Fails the parked read or send `waiter_id` with EINTR; nothing happens if it already
  // completed. No packet is consumed (or sent) for it.
  void Cancel(uint64_t waiter_id);

  // What poll(2) reports at `now`. `waiter`, if given, replaces the previous one and is notified
  // when a packet is queued (or, for a sender held back, when it may write).
  PollState Poll(std::unique_ptr<PollWaiter> waiter, absl::Time now);

  // Fails every parked request with `error_number` and drops the poll waiter (shutdown).
  void CancelAll(int error_number);

  PortCounters counters() const;
  size_t queued() const;

 private:
  friend class FlowControl;
  friend class Network;
  // A member of the network, or a monitor of it.
  enum class Role { kMember, kMonitor };

  Port(std::shared_ptr<Network> network, PortId id, PortMode mode, Role role, PortOwner owner,
       size_t qlen, absl::Time now);

  // True when a packet delivered now would not be dropped: a read is parked or the queue has room.
  bool HasRoom() const { return !parked_.empty() || queue_.size() < queue_.capacity(); }

  const std::shared_ptr<Network> network_;
  const PortId id_;
  const PortMode mode_;
  const Role role_;
  const PortOwner owner_;

  // Guarded by network_->mu_.
  PortQueue queue_;
  std::deque<std::unique_ptr<ReadWaiter>> parked_;
  std::unique_ptr<PollWaiter> poll_;
  PortCounters counters_;
  absl::Time last_read_;      // Last time a packet was handed to this port's reader (or join time).
  size_t blocked_sends_ = 0;  // Sends from this port waiting for room.
  OffloadDelivery offload_delivery_ = OffloadDelivery::kResolved;
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_PORT_H_
