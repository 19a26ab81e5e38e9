// MacTable: what a learning switch knows — on which port each (MAC address, VLAN) was last seen.
//
// An entry is live until `ageing` has passed since it was last seen: at exactly last_seen + ageing
// it is expired, and Lookup ignores it even before Expire() removes it. (An ageing of zero makes
// every entry expire at once: the switch then floods like a hub.) The table stores at most
// `max_macs` entries; when full it learns no new (MAC, VLAN) but still refreshes and moves the
// ones it holds. The table does not judge addresses: the caller learns only what it should.
// Pure logic; thread-compatible (SwitchPolicy owns one, under the network's lock).
#ifndef IPNFS_POLICIES_MAC_TABLE_H_
#define IPNFS_POLICIES_MAC_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/time/time.h"
#include "policies/ethernet_frame.h"
#include "policies/mac_address.h"
#include "policies/policy.h"

namespace ipnfs {

class MacTable {
 public:
  // What Learn() did.
  enum class Learned {
    kNew,        // A new entry (or one that had expired, now live again).
    kRefreshed,  // A live entry on the same port, seen again.
    kMoved,      // A live entry now on another port.
    kTableFull,  // Not learned: the table holds max_macs entries or more.
  };

  // Running totals since the table was made.
  struct Stats {
    uint64_t learned = 0;     // kNew outcomes.
    uint64_t moves = 0;       // kMoved outcomes.
    uint64_t table_full = 0;  // kTableFull outcomes.
    uint64_t aged = 0;        // Entries removed by Expire().
    uint64_t flushed = 0;     // Entries removed by Flush().
  };

  explicit MacTable(const PolicyOptions& options = PolicyOptions());

  // Takes new ageing and max_macs. Applies to the entries held, but removes none: over a smaller
  // bound, learning stops until ageing and flushes bring the table below it.
  void Configure(const PolicyOptions& options);

  // Records that (`mac`, `vlan`) was seen on `port` at `now`.
  Learned Learn(const MacAddress& mac, VlanId vlan, PortId port, absl::Time now);

  // The port of the live entry for (`mac`, `vlan`) at `now`, if any.
  std::optional<PortId> Lookup(const MacAddress& mac, VlanId vlan, absl::Time now) const;

  // Removes the entries expired at `now`.
  void Expire(absl::Time now);

  // Removes every entry on `port`.
  void Flush(PortId port);

  // Entries held, expired ones not yet removed by Expire() included.
  size_t size() const { return entries_.size(); }
  const Stats& stats() const { return stats_; }

  // The live entries at `now`, one line each, sorted by (MAC, VLAN):
  //   "02:00:00:00:00:0a 0 3 12\n"   (MAC VLAN PORT AGE_SECONDS, age in whole seconds).
  std::string Format(absl::Time now) const;

 private:
  struct Key {
    MacAddress mac;
    VlanId vlan;
    friend std::strong_ordering operator<=>(const Key&, const Key&) = default;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct Entry {
    PortId port;
    absl::Time last_seen;
  };

  bool IsLive(const Entry& entry, absl::Time now) const;

  absl::Duration ageing_;
  size_t max_macs_;
  absl::btree_map<Key, Entry> entries_;  // Sorted by (MAC, VLAN), as Format() lists them.
  Stats stats_;
};

}  // namespace ipnfs

#endif  // IPNFS_POLICIES_MAC_TABLE_H_
