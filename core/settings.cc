#include "core/settings.h"

#include <array>
#include <cerrno>
#include <cstdint>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/errno_status.h"
#include "policies/policy_registry.h"

namespace ipnfs {
namespace {

constexpr uint64_t kMaxQlen = 65536;
constexpr uint64_t kMaxStallMs = 24 * 3600 * 1000;
constexpr uint64_t kMaxPorts = 1 << 20;
constexpr uint64_t kMaxAgeingSeconds = 1'000'000;
constexpr uint64_t kMaxMacs = 1 << 20;

// Why a value is invalid; ApplySetting names the setting and the value around it.
absl::Status Reason(absl::string_view why) { return absl::InvalidArgumentError(why); }

// A decimal integer within [low, high].
absl::StatusOr<uint64_t> ParseWhole(absl::string_view value, uint64_t low, uint64_t high) {
  uint64_t parsed = 0;
  if (value.empty() || !absl::ascii_isdigit(value[0]) || !absl::SimpleAtoi(value, &parsed)) {
    return Reason("not a whole number");
  }
  if (parsed < low || parsed > high) {
    return Reason(absl::StrCat("must be between ", low, " and ", high));
  }
  return parsed;
}

absl::Status StoreWhole(absl::string_view value, uint64_t low, uint64_t high, size_t* field) {
  absl::StatusOr<uint64_t> parsed = ParseWhole(value, low, high);
  if (!parsed.ok()) return parsed.status();
  *field = *parsed;
  return absl::OkStatus();
}

// A whole number of `unit`s.
absl::Status StoreWhole(absl::string_view value, uint64_t low, uint64_t high, absl::Duration unit,
                        absl::Duration* field) {
  absl::StatusOr<uint64_t> parsed = ParseWhole(value, low, high);
  if (!parsed.ok()) return parsed.status();
  *field = unit * static_cast<int64_t>(*parsed);
  return absl::OkStatus();
}

// The words a setting with a few values accepts, e.g. {"drop", Flow::kDrop}.
template <typename T>
struct Word {
  absl::string_view text;
  T value;
};
constexpr Word<Flow> kFlows[] = {{"drop", Flow::kDrop}, {"block", Flow::kBlock}};
constexpr Word<LinkType> kLinkTypes[] = {{"ethernet", LinkType::kEthernet},
                                         {"user0", LinkType::kUser0}};

template <typename T, size_t N>
absl::Status StoreWord(absl::string_view value, const Word<T> (&words)[N], T* field) {
  std::string choices;
  for (const Word<T>& word : words) {
    if (word.text == value) {
      *field = word.value;
      return absl::OkStatus();
    }
    absl::StrAppend(&choices, choices.empty() ? "" : " or ", word.text);
  }
  return Reason(absl::StrCat("must be ", choices));
}

template <typename T, size_t N>
std::string FormatWord(const Word<T> (&words)[N], T value) {
  for (const Word<T>& word : words) {
    if (word.value == value) return std::string(word.text);
  }
  return std::string(words[0].text);
}

absl::Status StorePolicy(absl::string_view value, std::string* field) {
  if (!CreatePolicy(value).ok()) return Reason("no such policy");
  *field = std::string(value);
  return absl::OkStatus();
}

// One setting: its name, how a value (without surrounding white space) is checked and stored,
// leaving the config unchanged when it is invalid, and how the stored value is shown.
struct Setting {
  absl::string_view name;
  absl::Status (*apply)(absl::string_view value, const SettingLimits& limits,
                        NetworkConfig& config);
  std::string (*format)(const NetworkConfig& config);
};

// In the order SettingNames() lists them.
constexpr Setting kSettings[] = {
    {"policy",
     [](absl::string_view v, const SettingLimits&, NetworkConfig& c) {
       return StorePolicy(v, &c.policy);
     },
     [](const NetworkConfig& c) { return c.policy; }},
    {"mtu",
     [](absl::string_view v, const SettingLimits& l, NetworkConfig& c) {
       return StoreWhole(v, 1, l.max_mtu, &c.mtu);
     },
     [](const NetworkConfig& c) { return absl::StrCat(c.mtu); }},
    {"qlen",
     [](absl::string_view v, const SettingLimits&, NetworkConfig& c) {
       return StoreWhole(v, 1, kMaxQlen, &c.qlen);
     },
     [](const NetworkConfig& c) { return absl::StrCat(c.qlen); }},
    {"flow",
     [](absl::string_view v, const SettingLimits&, NetworkConfig& c) {
       return StoreWord(v, kFlows, &c.flow);
     },
     [](const NetworkConfig& c) { return FormatWord(kFlows, c.flow); }},
    {"stall_ms",
     [](absl::string_view v, const SettingLimits&, NetworkConfig& c) {
       return StoreWhole(v, 0, kMaxStallMs, absl::Milliseconds(1), &c.stall);
     },
     [](const NetworkConfig& c) { return absl::StrCat(absl::ToInt64Milliseconds(c.stall)); }},
    {"maxports",
     [](absl::string_view v, const SettingLimits&, NetworkConfig& c) {
       return StoreWhole(v, 0, kMaxPorts, &c.max_ports);
     },
     [](const NetworkConfig& c) { return absl::StrCat(c.max_ports); }},
    {"ageing",
     [](absl::string_view v, const SettingLimits&, NetworkConfig& c) {
       return StoreWhole(v, 1, kMaxAgeingSeconds, absl::Seconds(1), &c.ageing);
     },
     [](const NetworkConfig& c) { return absl::StrCat(absl::ToInt64Seconds(c.ageing)); }},
    {"macs",
     [](absl::string_view v, const SettingLimits&, NetworkConfig& c) {
       return StoreWhole(v, 1, kMaxMacs, &c.max_macs);
     },
     [](const NetworkConfig& c) { return absl::StrCat(c.max_macs); }},
    {"linktype",
     [](absl::string_view v, const SettingLimits&, NetworkConfig& c) {
       return StoreWord(v, kLinkTypes, &c.link_type);
     },
     [](const NetworkConfig& c) { return FormatWord(kLinkTypes, c.link_type); }},
};

constexpr auto kNames = [] {
  std::array<absl::string_view, std::size(kSettings)> names;
  for (size_t i = 0; i < names.size(); ++i) names[i] = kSettings[i].name;
  return names;
}();

const Setting* Find(absl::string_view name) {
  for (const Setting& setting : kSettings) {
    if (setting.name == name) return &setting;
  }
  return nullptr;
}

}  // namespace

absl::Span<const absl::string_view> SettingNames() { return kNames; }

bool IsSettingName(absl::string_view name) { return Find(name) != nullptr; }

absl::Status ApplySetting(absl::string_view name, absl::string_view value,
                          const SettingLimits& limits, NetworkConfig* config) {
  value = absl::StripAsciiWhitespace(value);
  const Setting* setting = Find(name);
  if (setting == nullptr) {
    return ErrnoError(ENOTSUP, absl::StrCat("no setting ", kAttributePrefix, name));
  }
  if (absl::Status valid = setting->apply(value, limits, *config); !valid.ok()) {
    return ErrnoError(EINVAL, absl::StrCat("invalid ", kAttributePrefix, name, " '", value,
                                           "': ", valid.message()));
  }
  return absl::OkStatus();
}

std::string FormatSetting(absl::string_view name, const NetworkConfig& config) {
  const Setting* setting = Find(name);
  return setting == nullptr ? "" : setting->format(config);
}

}  // namespace ipnfs
