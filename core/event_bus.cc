#include "core/event_bus.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "policies/hub_policy.h"

namespace ipnfs {

absl::StatusOr<std::unique_ptr<Port>> EventBus::Subscribe(const Credentials& who, PortOwner owner,
                                                          absl::Time now, size_t queue) {
  NetworkConfig config;
  config.qlen = queue;
  std::shared_ptr<Network> network = Network::Create(std::make_unique<HubPolicy>(), config);
  absl::StatusOr<std::unique_ptr<Port>> sender =
      network->Join(PortMode::kSend, PortOwner{.pid = 0, .uid = 0, .command = "ipnfs"}, now);
  if (!sender.ok()) return sender.status();
  absl::StatusOr<std::unique_ptr<Port>> reader =
      network->Join(PortMode::kReceive, std::move(owner), now);
  if (!reader.ok()) return reader.status();
  absl::MutexLock lock(&mu_);
  readers_.push_back(
      Reader{.who = who, .network = std::move(network), .sender = *std::move(sender)});
  return reader;
}

void EventBus::Publish(absl::Time when, absl::string_view kind, absl::string_view path,
                       const EventSubject& subject, absl::string_view details) {
  absl::MutexLock lock(&mu_);
  if (readers_.empty()) return;
  std::string line =
      absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", when, absl::UTCTimeZone()), " ", kind,
                   " ", path, details.empty() ? "" : " ", details, "\n");
  const absl::Span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(line.data()), line.size());
  // A reader whose port closed leaves only our sender in its network.
  std::erase_if(readers_, [](const Reader& reader) { return reader.network->stats().ports < 2; });
  for (Reader& reader : readers_) {
    if (!MayAccess(subject.mode, subject.uid, subject.gid, reader.who, kMayRead)) continue;
    reader.sender->Send(bytes, when).IgnoreError();  // A full reader loses the line (counted).
  }
}

bool EventBus::HasReaders() const {
  absl::MutexLock lock(&mu_);
  return !readers_.empty();
}

}  // namespace ipnfs
