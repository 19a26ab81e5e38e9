#include "core/settings.h"

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/errno_status.h"
#include "policies/policy_registry.h"

namespace ipnfs {
namespace {

constexpr absl::string_view kNames[] = {"policy",   "mtu",      "qlen",   "flow",    "stall_ms",
                                        "maxports", "ageing",   "macs",   "linktype"};

constexpr uint64_t kMaxQlen = 65536;
constexpr uint64_t kMaxStallMs = 24 * 3600 * 1000;
constexpr uint64_t kMaxPorts = 1 << 20;
constexpr uint64_t kMaxAgeingSeconds = 1'000'000;
constexpr uint64_t kMaxMacs = 1 << 20;

absl::Status Invalid(absl::string_view name, absl::string_view value, absl::string_view why) {
  return ErrnoError(EINVAL, absl::StrCat("invalid ", kAttributePrefix, name, " '", value, "': ",
                                         why));
}

// Parses a decimal integer within [low, high].
absl::Status ParseBounded(absl::string_view name, absl::string_view value, uint64_t low,
                          uint64_t high, uint64_t* out) {
  uint64_t parsed = 0;
  if (value.empty() || !absl::ascii_isdigit(value[0]) || !absl::SimpleAtoi(value, &parsed)) {
    return Invalid(name, value, "not a whole number");
  }
  if (parsed < low || parsed > high) {
    return Invalid(name, value, absl::StrCat("must be between ", low, " and ", high));
  }
  *out = parsed;
  return absl::OkStatus();
}

}  // namespace

absl::Span<const absl::string_view> SettingNames() { return kNames; }

bool IsSettingName(absl::string_view name) {
  for (absl::string_view known : kNames) {
    if (known == name) return true;
  }
  return false;
}

absl::Status ApplySetting(absl::string_view name, absl::string_view value,
                          const SettingLimits& limits, NetworkConfig* config) {
  value = absl::StripAsciiWhitespace(value);
  uint64_t number = 0;
  if (name == "policy") {
    if (!CreatePolicy(value).ok()) return Invalid(name, value, "no such policy");
    config->policy = std::string(value);
  } else if (name == "mtu") {
    if (auto parsed = ParseBounded(name, value, 1, limits.max_mtu, &number); !parsed.ok()) {
      return parsed;
    }
    config->mtu = number;
  } else if (name == "qlen") {
    if (auto parsed = ParseBounded(name, value, 1, kMaxQlen, &number); !parsed.ok()) {
      return parsed;
    }
    config->qlen = number;
  } else if (name == "flow") {
    if (value == "drop") {
      config->flow = Flow::kDrop;
    } else if (value == "block") {
      config->flow = Flow::kBlock;
    } else {
      return Invalid(name, value, "must be drop or block");
    }
  } else if (name == "stall_ms") {
    if (auto parsed = ParseBounded(name, value, 0, kMaxStallMs, &number); !parsed.ok()) {
      return parsed;
    }
    config->stall = absl::Milliseconds(number);
  } else if (name == "maxports") {
    if (auto parsed = ParseBounded(name, value, 0, kMaxPorts, &number); !parsed.ok()) {
      return parsed;
    }
    config->max_ports = number;
  } else if (name == "linktype") {
    if (value == "ethernet") {
      config->link_type = LinkType::kEthernet;
    } else if (value == "user0") {
      config->link_type = LinkType::kUser0;
    } else {
      return Invalid(name, value, "must be ethernet or user0");
    }
  } else if (name == "ageing") {
    if (auto parsed = ParseBounded(name, value, 1, kMaxAgeingSeconds, &number); !parsed.ok()) {
      return parsed;
    }
    config->ageing = absl::Seconds(number);
  } else if (name == "macs") {
    if (auto parsed = ParseBounded(name, value, 1, kMaxMacs, &number); !parsed.ok()) {
      return parsed;
    }
    config->max_macs = number;
  } else {
    return ErrnoError(ENOTSUP, absl::StrCat("no setting ", kAttributePrefix, name));
  }
  return absl::OkStatus();
}

std::string FormatSetting(absl::string_view name, const NetworkConfig& config) {
  if (name == "policy") return config.policy;
  if (name == "mtu") return absl::StrCat(config.mtu);
  if (name == "qlen") return absl::StrCat(config.qlen);
  if (name == "flow") return config.flow == Flow::kBlock ? "block" : "drop";
  if (name == "stall_ms") return absl::StrCat(absl::ToInt64Milliseconds(config.stall));
  if (name == "maxports") return absl::StrCat(config.max_ports);
  if (name == "ageing") return absl::StrCat(absl::ToInt64Seconds(config.ageing));
  if (name == "macs") return absl::StrCat(config.max_macs);
  if (name == "linktype") return config.link_type == LinkType::kUser0 ? "user0" : "ethernet";
  return "";
}

}  // namespace ipnfs
