// Policy: the delivery decision of a network, as pure logic.
//
// A policy sees ports join and leave and, for every packet sent, names the ports that receive it.
// It does no I/O, owns no packet and never blocks: the network core calls it with the network's
// lock held, from whichever thread sends. Time comes in as a parameter, so tests control it.
// A new policy is one file pair in policies/ and one line in policy_registry.cc.
#ifndef IPNFS_POLICIES_POLICY_H_
#define IPNFS_POLICIES_POLICY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace ipnfs {

// Identifies a port within its network. Ids are never reused by a network.
using PortId = uint64_t;

// What a port may do, fixed when it joins (from its open mode).
enum class PortMode : uint8_t {
  kReceive = 1,      // O_RDONLY: never sends.
  kSend = 2,         // O_WRONLY: never a destination.
  kSendReceive = 3,  // O_RDWR.
};

inline bool Receives(PortMode mode) { return static_cast<uint8_t>(mode) & 1; }
inline bool Sends(PortMode mode) { return static_cast<uint8_t>(mode) & 2; }

// What the network tells a policy about its ports while routing one packet.
class PortView {
 public:
  virtual ~PortView() = default;
  // True when `port` can queue one more packet now.
  virtual bool HasRoom(PortId port) const = 0;
  // True when `port` cannot queue a packet now and makes senders wait for it: flow control
  // "block", and it has read within stall_ms (a stalled reader is lossy for the moment). Never
  // under flow control "drop", as the defaults of both methods say.
  virtual bool HoldsBack(PortId) const { return false; }
  // True when some receive-capable port other than `ingress` HoldsBack.
  virtual bool OthersHoldBack(PortId /*ingress*/) const { return false; }
};

// Settings a policy may use; each network passes its own (user.ipn.ageing, user.ipn.macs).
struct PolicyOptions {
  absl::Duration ageing = absl::Seconds(300);  // Learned entries expire after this.
  size_t max_macs = 4096;                      // Learned entries at most.
};

// A named counter a policy keeps (shown in user.ipn.stats), e.g. {"mac_moves", 3}.
struct PolicyCounter {
  absl::string_view name;
  uint64_t value = 0;
};

// Something users may want to hear about, e.g. {"mac-move", "mac=02:00:00:00:00:01 vlan=0
// from=3 to=5"}: shown in /.events.
struct PolicyEvent {
  std::string kind;
  std::string details;
};

class Policy {
 public:
  virtual ~Policy() = default;

  // The name users set and read back, e.g. "hub".
  virtual absl::string_view name() const = 0;

  // `port` joins with `mode`. Called once per port, before any Route naming it as ingress.
  virtual void Join(PortId port, PortMode mode) = 0;

  // `port` leaves; the policy forgets everything it knew about it.
  virtual void Leave(PortId port) = 0;

  // Appends to `*destinations` the ports that receive `packet`, sent by `ingress` at `now`.
  // Never names `ingress`. An error status rejects the packet (nothing is delivered); its code
  // is the one the sender sees. Under flow control "block" the network makes the packet wait
  // while a destination HoldsBack. A policy that chooses among receivers by room returns
  // absl::UnavailableError instead when none has room and one HoldsBack: nothing is delivered
  // or counted, the sender waits (EAGAIN if it may not), and the network calls Route again for
  // the same packet whenever room may have freed up (a read, a join, a leave, a tick).
  virtual absl::Status Route(PortId ingress, absl::Span<const uint8_t> packet, absl::Time now,
                             const PortView& ports, std::vector<PortId>* destinations) = 0;

  // Under flow control "block": true when a packet from `ingress` sent now would wait for room
  // (poll(2) then reports no POLLOUT). The default suits a policy that names destinations
  // whatever their room: when any other receiver HoldsBack, since it may be a destination. A
  // policy that returns Unavailable from Route says exactly when it would.
  virtual bool WouldWait(PortId ingress, const PortView& ports) const {
    return ports.OthersHoldBack(ingress);
  }

  // Lets a policy expire state (e.g. ageing). Called from time to time, not per packet.
  virtual void Tick(absl::Time now) = 0;

  // Applies the network's settings; called before the first Join and whenever they change.
  virtual void Configure(const PolicyOptions&) {}

  // The policy's own counters, in a fixed order.
  virtual std::vector<PolicyCounter> Counters() const { return {}; }

  // The events since the last call, oldest first. A policy keeps only a bounded number.
  virtual std::vector<PolicyEvent> TakeEvents() { return {}; }

  // Names of the read-only attributes this policy offers (without "user.ipn."), e.g. "mactable",
  // and their text at `now`. NotFound for a name it does not offer.
  virtual std::vector<absl::string_view> ReadOnlyAttributes() const { return {}; }
  virtual absl::StatusOr<std::string> ReadAttribute(absl::string_view name, absl::Time) const {
    return absl::NotFoundError(name);
  }
};

}  // namespace ipnfs

#endif  // IPNFS_POLICIES_POLICY_H_
