// Network: the ports of one network file, its policy and its counters.
//
// A network is shared (std::shared_ptr) by its node in the namespace and by every port joined to
// it, so it outlives an unlink until the last port closes. One mutex guards the network and all its
// ports; it is never held while a waiter completes (that is, while replying to the kernel).
// Thread-safe.
#ifndef IPNFS_CORE_NETWORK_H_
#define IPNFS_CORE_NETWORK_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/port.h"
#include "policies/policy.h"

namespace ipnfs {

struct NetworkConfig {
  size_t mtu = 65536;  // Largest packet, in bytes.
  size_t qlen = 256;   // Packets queued per port.
};

struct NetworkStats {
  size_t ports = 0;
  uint64_t packets_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t packets_received = 0;  // Summed over receivers.
  uint64_t bytes_received = 0;
  uint64_t drops_queue_full = 0;
  uint64_t drops_truncated = 0;
  uint64_t drops_too_big = 0;
};

class Network : public std::enable_shared_from_this<Network> {
 public:
  static std::shared_ptr<Network> Create(std::unique_ptr<Policy> policy, NetworkConfig config);

  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // A new port with `mode`, opened by `owner`.
  std::unique_ptr<Port> Join(PortMode mode, PortOwner owner);

  NetworkStats stats() const;
  NetworkConfig config() const;
  // When the last packet was sent; InfinitePast() before the first.
  absl::Time last_send() const;

 private:
  friend class Port;
  class QueueRoom;
  class Completions;

  Network(std::unique_ptr<Policy> policy, NetworkConfig config);

  void Leave(Port& port);
  absl::Status Send(Port& from, absl::Span<const uint8_t> bytes, absl::Time now);
  void Receive(Port& port, std::unique_ptr<ReadWaiter> waiter, bool nonblocking);
  void CancelRead(Port& port, uint64_t waiter_id);
  PollState Poll(Port& port, std::unique_ptr<PollWaiter> waiter);
  void CancelAll(Port& port, int error_number);

  // Queues `packet` for `port` or hands it to a parked read. Fills `done` with what to do after
  // the lock is released.
  void DeliverLocked(Port& port, const PacketRef& packet, Completions& done)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CountReceivedLocked(Port& port, const Packet& packet, size_t max_bytes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::unique_ptr<Policy> policy_ ABSL_GUARDED_BY(mu_);
  NetworkConfig config_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<PortId, Port*> ports_ ABSL_GUARDED_BY(mu_);
  PortId next_port_id_ ABSL_GUARDED_BY(mu_) = 1;
  NetworkStats stats_ ABSL_GUARDED_BY(mu_);
  absl::Time last_send_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::vector<PortId> destinations_ ABSL_GUARDED_BY(mu_);  // Scratch space for Route.
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_NETWORK_H_
