// A libFuzzer target for SwitchPolicy: decodes the input into a sequence of port joins and
// leaves, frames (well-formed ones over a few addresses and VLANs, and raw bytes), clock steps,
// ticks and re-configurations, and aborts when an invariant breaks:
//   - a frame shorter than its header is rejected with InvalidArgument and goes nowhere;
//     any other frame is accepted;
//   - destinations never include the ingress, a port that left or a send-only port, and never
//     name a port twice;
//   - a group (broadcast/multicast) destination reaches every other receiver;
//   - the table never grows past max_macs, and "mactable" lists no more than it holds.
// Build and run it with scripts/fuzz.sh (clang). Single-threaded, like libFuzzer's callbacks.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "policies/ethernet_frame.h"
#include "policies/switch_policy.h"

namespace ipnfs {
namespace {

[[noreturn]] void Broken(const char* invariant) {
  std::fprintf(stderr, "switch_fuzzer: invariant broken: %s\n", invariant);
  std::abort();
}

void Check(bool holds, const char* invariant) {
  if (!holds) Broken(invariant);
}

// The fuzzer's input, read front to back; past its end every byte reads as zero.
class Input {
 public:
  explicit Input(absl::Span<const uint8_t> data) : data_(data) {}
  bool done() const { return data_.empty(); }
  uint8_t Byte() {
    if (data_.empty()) return 0;
    const uint8_t byte = data_[0];
    data_.remove_prefix(1);
    return byte;
  }
  // Up to `count` bytes: fewer when the input ends first.
  absl::Span<const uint8_t> Bytes(size_t count) {
    const absl::Span<const uint8_t> bytes = data_.subspan(0, count);
    data_.remove_prefix(bytes.size());
    return bytes;
  }

 private:
  absl::Span<const uint8_t> data_;
};

class AllRoom : public PortView {
 public:
  bool HasRoom(PortId) const override { return true; }
};

// Few addresses, so that frames hit learned entries: group, zero and unicast ones.
constexpr std::array<MacAddress::Bytes, 8> kMacs = {{
    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
    {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
    {0x02, 0x00, 0x00, 0x00, 0x00, 0x01},
    {0x02, 0x00, 0x00, 0x00, 0x00, 0x02},
    {0x02, 0x00, 0x00, 0x00, 0x00, 0x03},
    {0x02, 0x00, 0x00, 0x00, 0x00, 0x04},
    {0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
}};

constexpr size_t kSlots = 5;  // Ports alive at once, at most.

// A SwitchPolicy and what the network would know about its ports.
class Harness {
 public:
  void Run(Input& input) {
    while (!input.done()) Step(input);
  }

 private:
  void Step(Input& input) {
    const uint8_t op = input.Byte();
    const size_t slot = (op >> 3) % kSlots;
    switch (op & 7) {
      case 0:
        return Join(slot, input.Byte());
      case 1:
        return Leave(slot);
      case 2:
        return Route(slot, WellFormedFrame(input));
      case 3:
        return Route(slot, RawFrame(input));
      case 4:
        now_ += absl::Milliseconds(37 * input.Byte());
        return;
      case 5:
        now_ += absl::Seconds(2 * input.Byte());
        return policy_.Tick(now_);
      case 6:
        return Configure(input);
      default:
        return CheckTable();
    }
  }

  void Join(size_t slot, uint8_t mode_byte) {
    if (slots_[slot].has_value()) return;
    static constexpr PortMode kModes[] = {PortMode::kReceive, PortMode::kSend,
                                          PortMode::kSendReceive};
    const PortMode mode = kModes[mode_byte % 3];
    const PortId port = next_port_++;
    slots_[slot] = port;
    modes_[port] = mode;
    policy_.Join(port, mode);
  }

  void Leave(size_t slot) {
    if (!slots_[slot].has_value()) return;
    policy_.Leave(*slots_[slot]);
    modes_.erase(*slots_[slot]);
    slots_[slot].reset();
  }

  // Ageing up to 255 s and a small table, so that both run out.
  void Configure(Input& input) {
    options_.ageing = absl::Seconds(input.Byte());
    options_.max_macs = input.Byte() % 12;
    policy_.Configure(options_);
  }

  // A frame between two of kMacs, perhaps tagged, with up to 15 bytes of payload.
  static std::vector<uint8_t> WellFormedFrame(Input& input) {
    const uint8_t addresses = input.Byte();
    const uint8_t shape = input.Byte();
    std::vector<uint8_t> frame(kMacs[addresses & 7].begin(), kMacs[addresses & 7].end());
    frame.insert(frame.end(), kMacs[addresses >> 5].begin(), kMacs[addresses >> 5].end());
    if (shape & 0x80) {  // Tagged, on VLAN 0..3, the tag's other bits from the input.
      frame.insert(frame.end(), {0x81, 0x00, static_cast<uint8_t>(shape & 0x70), 0});
      frame.back() = shape & 0x03;
    }
    frame.insert(frame.end(), {0x08, 0x00});
    frame.resize(frame.size() + (shape & 0x0f), 0xaa);
    return frame;
  }

  // Up to 39 arbitrary bytes.
  static std::vector<uint8_t> RawFrame(Input& input) {
    const absl::Span<const uint8_t> bytes = input.Bytes(input.Byte() % 40);
    return std::vector<uint8_t>(bytes.begin(), bytes.end());
  }

  void Route(size_t slot, const std::vector<uint8_t>& frame) {
    if (!slots_[slot].has_value()) return;  // Only joined ports send.
    const PortId ingress = *slots_[slot];
    const size_t entries_before = Entries();
    std::vector<PortId> destinations;
    const absl::Status status = policy_.Route(ingress, frame, now_, AllRoom(), &destinations);
    const bool tagged = frame.size() >= 14 && frame[12] == 0x81 && frame[13] == 0x00;
    const bool too_short = frame.size() < (tagged ? 18u : 14u);
    if (too_short) {
      Check(status.code() == absl::StatusCode::kInvalidArgument, "short frame not rejected");
      Check(destinations.empty(), "rejected frame has destinations");
    } else {
      Check(status.ok(), "well-formed frame rejected");
    }
    CheckDestinations(ingress, destinations);
    if (status.ok() && (frame[0] & 1) != 0) {
      Check(destinations == ReceiversBut(ingress), "group frame not flooded to every receiver");
    }
    Check(Entries() <= std::max(entries_before, options_.max_macs), "table grew past max_macs");
  }

  void CheckDestinations(PortId ingress, std::vector<PortId> destinations) const {
    for (PortId port : destinations) {
      Check(port != ingress, "delivered back to the ingress");
      auto it = modes_.find(port);
      Check(it != modes_.end(), "delivered to a port that left or never joined");
      Check(Receives(it->second), "delivered to a send-only port");
    }
    std::sort(destinations.begin(), destinations.end());
    Check(std::adjacent_find(destinations.begin(), destinations.end()) == destinations.end(),
          "a destination named twice");
  }

  void CheckTable() const {
    absl::StatusOr<std::string> text = policy_.ReadAttribute("mactable", now_);
    Check(text.ok(), "mactable unreadable");
    const size_t lines = std::count(text->begin(), text->end(), '\n');
    Check(lines <= Entries(), "mactable lists more than the table holds");
  }

  std::vector<PortId> ReceiversBut(PortId ingress) const {
    std::vector<PortId> receivers;
    for (const auto& [port, mode] : modes_) {
      if (port != ingress && Receives(mode)) receivers.push_back(port);
    }
    return receivers;
  }

  size_t Entries() const {
    for (const PolicyCounter& counter : policy_.Counters()) {
      if (counter.name == "mac_entries") return counter.value;
    }
    Broken("no mac_entries counter");
  }

  SwitchPolicy policy_;
  PolicyOptions options_;
  std::array<std::optional<PortId>, kSlots> slots_;
  std::map<PortId, PortMode> modes_;  // The ports joined now.
  PortId next_port_ = 1;
  absl::Time now_ = absl::UnixEpoch();
};

}  // namespace
}  // namespace ipnfs

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ipnfs::Input input(absl::MakeConstSpan(data, size));
  ipnfs::Harness().Run(input);
  return 0;
}
