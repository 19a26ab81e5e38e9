#include "policies/mac_table.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ipnfs {

MacTable::MacTable(const PolicyOptions& options)
    : ageing_(options.ageing), max_macs_(options.max_macs) {}

void MacTable::Configure(const PolicyOptions& options) {
  ageing_ = options.ageing;
  max_macs_ = options.max_macs;
}

bool MacTable::IsLive(const Entry& entry, absl::Time now) const {
  return now - entry.last_seen < ageing_;
}

MacTable::Learned MacTable::Learn(const MacAddress& mac, VlanId vlan, PortId port, absl::Time now) {
  auto it = entries_.find(Key{mac, vlan});
  if (it != entries_.end()) {
    Learned learned = Learned::kNew;
    if (IsLive(it->second, now)) {
      learned = it->second.port == port ? Learned::kRefreshed : Learned::kMoved;
    }
    it->second = Entry{port, now};
    if (learned == Learned::kNew) ++stats_.learned;
    if (learned == Learned::kMoved) ++stats_.moves;
    return learned;
  }
  if (entries_.size() >= max_macs_) {
    ++stats_.table_full;
    return Learned::kTableFull;
  }
  entries_.emplace(Key{mac, vlan}, Entry{port, now});
  ++stats_.learned;
  return Learned::kNew;
}

std::optional<PortId> MacTable::Lookup(const MacAddress& mac, VlanId vlan, absl::Time now) const {
  auto it = entries_.find(Key{mac, vlan});
  if (it == entries_.end() || !IsLive(it->second, now)) return std::nullopt;
  return it->second.port;
}

void MacTable::Expire(absl::Time now) {
  stats_.aged += absl::erase_if(
      entries_, [&](const auto& key_and_entry) { return !IsLive(key_and_entry.second, now); });
}

void MacTable::Flush(PortId port) {
  stats_.flushed += absl::erase_if(
      entries_, [port](const auto& key_and_entry) { return key_and_entry.second.port == port; });
}

std::string MacTable::Format(absl::Time now) const {
  std::string text;
  for (const auto& [key, entry] : entries_) {
    if (!IsLive(entry, now)) continue;
    // A clock that went back makes no negative ages.
    const int64_t age = std::max<int64_t>(0, absl::ToInt64Seconds(now - entry.last_seen));
    absl::StrAppend(&text, key.mac.ToString(), " ", key.vlan, " ", entry.port, " ", age, "\n");
  }
  return text;
}

}  // namespace ipnfs
