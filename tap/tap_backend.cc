#include "tap/tap_backend.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/errno_status.h"
#include "core/log.h"
#include "core/offload.h"
#include "tap/link_control.h"
#include "tap/packet_socket.h"
#include "tap/tap_device.h"

namespace ipnfs {
namespace {

constexpr size_t kMinFrameCapacity = 1514 + 4;  // An Ethernet frame with a VLAN tag.
constexpr size_t kMaxFrameCapacity = 65536;

const char* KindName(InterfaceKind kind) { return kind == InterfaceKind::kTap ? "tap" : "grab"; }

absl::StatusOr<std::unique_ptr<Link>> OpenLink(InterfaceKind kind, const std::string& name) {
  if (kind == InterfaceKind::kGrab) {
    absl::StatusOr<std::unique_ptr<PacketSocket>> socket = PacketSocket::Open(name);
    if (!socket.ok()) return socket.status();
    return std::unique_ptr<Link>(*std::move(socket));
  }
  // TUNSETIFF would attach to an existing tap of that name: refuse any name in use here.
  if (InterfaceIndex(name) != 0) {
    return ErrnoError(EEXIST, absl::StrCat("an interface named \"", name, "\" exists"));
  }
  absl::StatusOr<std::unique_ptr<TapDevice>> tap = TapDevice::Create(name);
  if (!tap.ok()) return tap.status();
  return std::unique_ptr<Link>(*std::move(tap));
}

}  // namespace

absl::StatusOr<std::unique_ptr<TapBackend>> TapBackend::Create(LinkLoopOptions options) {
  std::unique_ptr<TapBackend> backend(new TapBackend());
  EventLoopOptions loop_options;
  loop_options.name = "ipnfs-taps";
  loop_options.ring.entries = options.ring_entries;
  loop_options.busy_poll = options.busy_poll;
  absl::StatusOr<std::unique_ptr<EventLoop>> loop =
      EventLoop::Start(std::move(loop_options), [](EventLoop&) { return absl::OkStatus(); });
  if (!loop.ok()) return loop.status();
  backend->loop_ = *std::move(loop);
  absl::StatusOr<std::unique_ptr<LinkLoop>> links =
      LinkLoop::Create(*backend->loop_, std::move(options),
                       [backend = backend.get()](uint64_t id) { backend->Lose(id); });
  if (!links.ok()) return links.status();
  backend->links_ = *std::move(links);
  return backend;
}

TapBackend::~TapBackend() {
  if (loop_ != nullptr) loop_->Stop();  // Closes every link; then the handler may go.
  links_.reset();
}

absl::Status TapBackend::Attach(InterfaceKind kind, const std::string& name,
                                const std::shared_ptr<Network>& network) {
  if (absl::Status valid = ValidateInterfaceName(name); !valid.ok()) return valid;
  if (network == nullptr) return ErrnoError(EINVAL, "no network");
  absl::MutexLock admin(&admin_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (auto it = entries_.find(name); it != entries_.end()) {
      if (it->second.kind == kind && it->second.network == network.get()) return absl::OkStatus();
      return ErrnoError(EEXIST, absl::StrCat("\"", name, "\" is attached elsewhere already"));
    }
  }
  const std::string label = absl::StrCat(KindName(kind), ":", name);
  if (!HasNetAdmin()) {
    IPN_LOG(WARNING) << "cannot attach " << label << ": the daemon lacks CAP_NET_ADMIN";
    return ErrnoError(EPERM, absl::StrCat(label, " needs CAP_NET_ADMIN"));
  }
  absl::StatusOr<std::unique_ptr<Link>> link = OpenLink(kind, name);
  if (!link.ok()) {
    if (StatusToErrno(link.status()) == EPERM) {
      IPN_LOG(WARNING) << "cannot attach " << label << ": " << link.status().message();
    }
    return link.status();
  }
  absl::StatusOr<std::unique_ptr<Port>> port =
      network->Join(PortMode::kSendReceive,
                    PortOwner{.pid = getpid(), .uid = getuid(), .command = label}, absl::Now());
  if (!port.ok()) return port.status();  // Closing `link` deletes a new tap again.
  size_t capacity = std::clamp(network->config().mtu, kMinFrameCapacity, kMaxFrameCapacity);
  // A tap with offloads hands over GSO packets of up to 64 KiB, whatever the MTU (which applies to
  // their segments).
  if ((*link)->offloads()) capacity = std::max(capacity, Offload::kMaxPacketBytes);
  const uint64_t id = next_id_++;
  auto counters = std::make_shared<LinkCounters>();
  {
    // Listed before the loop has it, so that its disappearing at once is not missed.
    absl::MutexLock lock(&mu_);
    entries_[name] = Entry{.kind = kind, .network = network.get(), .id = id, .counters = counters};
  }
  absl::Status added =
      links_->Add(id, *std::move(link), *std::move(port), std::move(counters), capacity);
  if (!added.ok()) Forget(id);
  return added;
}

absl::Status TapBackend::Detach(InterfaceKind kind, const std::string& name,
                                const Network& network) {
  absl::MutexLock admin(&admin_mu_);
  uint64_t id = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(name);
    if (it == entries_.end() || it->second.kind != kind || it->second.network != &network) {
      return ErrnoError(ENOENT, absl::StrCat(KindName(kind), ":", name, " is not attached here"));
    }
    id = it->second.id;
  }
  absl::Status removed = links_->Remove(id);
  Forget(id);
  if (StatusToErrno(removed) == ENOENT) {
    return ErrnoError(ENOENT, absl::StrCat(KindName(kind), ":", name, " is gone already"));
  }
  return removed;
}

std::vector<std::string> TapBackend::Attached(InterfaceKind kind, const Network& network) const {
  std::vector<std::string> names;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, entry] : entries_) {
    if (entry.kind == kind && entry.network == &network) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<InterfaceCounters> TapBackend::Counters(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return ErrnoError(ENOENT, absl::StrCat(name, " is not attached"));
  return it->second.counters->Snapshot();
}

void TapBackend::Lose(uint64_t id) {
  Forget(id);
  losses_.fetch_add(1, std::memory_order_relaxed);
}

void TapBackend::Forget(uint64_t id) {
  absl::MutexLock lock(&mu_);
  absl::erase_if(entries_, [id](const auto& entry) { return entry.second.id == id; });
}

}  // namespace ipnfs
