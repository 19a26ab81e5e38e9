// Network: the ports of one network file, its policy, its settings and its counters.
//
// A network is shared (std::shared_ptr) by its node in the namespace and by every port joined to
// it, so it outlives an unlink until the last port closes. One mutex guards the network and all its
// ports; it is never held while a waiter completes (that is, while replying to the kernel: see
// core/completions.h). Flow control "block" (the sends waiting for room) is a FlowControl the
// network owns and runs under the same lock. Time is a parameter: the network never reads the
// clock. Thread-safe.
#ifndef IPNFS_CORE_NETWORK_H_
#define IPNFS_CORE_NETWORK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/network_config.h"
#include "core/port.h"
#include "core/waiters.h"
#include "policies/policy.h"

namespace ipnfs {

class Completions;
class FlowControl;

struct NetworkStats {
  size_t ports = 0;
  uint64_t packets_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t packets_received = 0;  // Summed over receivers.
  uint64_t bytes_received = 0;
  uint64_t drops_queue_full = 0;
  uint64_t drops_truncated = 0;
  uint64_t drops_too_big = 0;
  uint64_t drops_no_send = 0;        // Sent from a port that may not send (a socket without w).
  uint64_t connections_refused = 0;  // Socket connections closed at once: no r, no w, or full.
  uint64_t bad_frames = 0;           // Stream connections closed for a bad length prefix.
  std::vector<std::pair<std::string, uint64_t>> policy_counters;  // The policy's own.
};

// One port as introspection shows it.
struct PortInfo {
  PortId id = 0;
  PortMode mode = PortMode::kReceive;
  bool monitor = false;
  PortOwner owner;
  PortCounters counters;
  size_t queued = 0;
};

class Network : public std::enable_shared_from_this<Network> {
 public:
  // A network delivering with `policy`; config.policy is taken from policy->name().
  static std::shared_ptr<Network> Create(std::unique_ptr<Policy> policy, NetworkConfig config);

  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;
  ~Network();

  // A new port with `mode`, opened by `owner` at `now`. EUSERS when max_ports are joined. Under
  // flow control "block" a new receiver may take a packet waiting for room (anycast).
  absl::StatusOr<std::unique_ptr<Port>> Join(PortMode mode, PortOwner owner, absl::Time now);

  // A receive-only monitor port: it gets a copy of every packet sent in the network by any port,
  // whatever the policy delivers to whom; it is never a destination of the policy, never holds
  // senders back, and does not count towards max_ports.
  absl::StatusOr<std::unique_ptr<Port>> JoinMonitor(PortOwner owner, absl::Time now);

  // Replaces the settings other than the policy. A new qlen applies to joined ports too (packets
  // already queued stay); a change of flow or qlen releases waiting senders that now may go.
  void SetConfig(const NetworkConfig& config, absl::Time now);
  // Replaces the policy; joined ports join the new one, queued packets stay queued.
  void SetPolicy(std::unique_ptr<Policy> policy);

  // Lets time-based state move on: stalled receivers release waiting senders, the policy ages
  // its state, and drops since the last report become a "drop-burst" event (one a second at
  // most).
  void Tick(absl::Time now);

  // The events gathered by Tick since the last call: the policy's (e.g. "mac-move") and
  // "drop-burst" ("dropped=N").
  std::vector<PolicyEvent> TakeEvents();

  // A socket face closed a connection at once (the peer may neither send nor receive, or the
  // network is full); or closed one for a length prefix of 0 or above the MTU.
  void CountRefusedConnection();
  void CountBadFrame();

  NetworkStats stats() const;
  NetworkConfig config() const;
  Flow flow() const;
  std::vector<PortInfo> ports() const;
  // The policy's read-only attributes (e.g. "mactable") and their text at `now`.
  std::vector<std::string> policy_attributes() const;
  absl::StatusOr<std::string> ReadPolicyAttribute(absl::string_view name, absl::Time now) const;
  // When the last packet was sent; InfinitePast() before the first.
  absl::Time last_send() const;

 private:
  friend class FlowControl;
  friend class Port;

  Network(std::unique_ptr<Policy> policy, NetworkConfig config);

  // Takes `port` out of the network. Under "block" the senders it held back are released at
  // latest_now_.
  void Leave(Port& port);
  // Without `waiter`: sends now or returns why not (EAGAIN when it would wait). With `waiter`:
  // completes or fails it, now or once it may go, and returns OK.
  // `packet` null or empty: an empty send. Every receiver shares `packet`.
  absl::Status Send(Port& from, PacketRef packet, absl::Time now,
                    std::unique_ptr<SendWaiter> waiter);

  // Remembers `now` as the latest time a caller brought, if it is.
  void SeeLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Under "block": room may have freed up or a receiver came or went, so the waiting sends that may
  // go now are sent (see FlowControl::Release). Nothing happens under "drop".
  void ReleaseWaitingLocked(absl::Time now, Completions& done) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Completes `waiter` with the oldest queued packet, or, when it is framed, with every queued
  // packet whose frame fits. The queue of `port` is not empty.
  void CompleteFromQueueLocked(Port& port, std::unique_ptr<ReadWaiter> waiter, absl::Time now,
                               Completions& done) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends `packet` from `from` to `destinations` (those still joined) and to every monitor.
  void DeliverAllLocked(Port& from, const PacketRef& packet,
                        const std::vector<PortId>& destinations, absl::Time now, Completions& done)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Delivers `packet` to `port` as it is, or, when it carries an offload `port` does not take, the
  // ordinary frames it stands for (`resolved`, filled on first use).
  void DeliverResolvedLocked(Port& port, const PacketRef& packet, std::vector<PacketRef>& resolved,
                             Completions& done) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues `packet` for `port` or hands it to a parked read.
  void DeliverLocked(Port& port, const PacketRef& packet, Completions& done)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CountReceivedLocked(Port& port, const Packet& packet, size_t max_bytes, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ConfigurePolicyLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::unique_ptr<Policy> policy_ ABSL_GUARDED_BY(mu_);
  NetworkConfig config_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<PortId, Port*> ports_ ABSL_GUARDED_BY(mu_);
  std::vector<Port*> monitors_ ABSL_GUARDED_BY(mu_);
  PortId next_port_id_ ABSL_GUARDED_BY(mu_) = 1;
  NetworkStats stats_ ABSL_GUARDED_BY(mu_);
  absl::Time last_send_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // The latest `now` any call brought: the time a port leaves at, since its destructor has none.
  absl::Time latest_now_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  const std::unique_ptr<FlowControl> flow_ ABSL_PT_GUARDED_BY(mu_);
  std::vector<PolicyEvent> events_ ABSL_GUARDED_BY(mu_);
  uint64_t drops_reported_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time drops_reported_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::vector<PortId> destinations_ ABSL_GUARDED_BY(mu_);  // Scratch space for Route.
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_NETWORK_H_
