// Settings: the configuration of a network as users see it, `user.ipn.NAME` extended attributes.
//
// Pure functions that validate, apply and format one setting at a time, so the namespace, the
// state file and directory defaults all share one parser. Thread-safe (no state).
#ifndef IPNFS_CORE_SETTINGS_H_
#define IPNFS_CORE_SETTINGS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/network_config.h"

namespace ipnfs {

// The prefix every ipnfs attribute has.
inline constexpr absl::string_view kAttributePrefix = "user.ipn.";

// What bounds a value beyond its own syntax.
struct SettingLimits {
  size_t max_mtu = 65536;  // The largest single FUSE write this mount carries.
};

// The settable names, without the prefix: policy, mtu, qlen, flow, stall_ms, maxports, ageing,
// macs, linktype.
absl::Span<const absl::string_view> SettingNames();
bool IsSettingName(absl::string_view name);

// Parses `value` (surrounding white space ignored) for setting `name` and stores it in `*config`.
// EINVAL with a reason for a malformed or out-of-range value, leaving `*config` unchanged;
// ENOTSUP for a name that is not a setting.
absl::Status ApplySetting(absl::string_view name, absl::string_view value,
                          const SettingLimits& limits, NetworkConfig* config);

// The value of setting `name` in `config`, as ApplySetting accepts it back.
std::string FormatSetting(absl::string_view name, const NetworkConfig& config);

}  // namespace ipnfs

#endif  // IPNFS_CORE_SETTINGS_H_
