#include "core/introspection.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace ipnfs {

std::string FormatStats(const NetworkStats& stats) {
  std::string text = absl::StrCat(
      "ports ", stats.ports, "\npackets_sent ", stats.packets_sent, "\nbytes_sent ",
      stats.bytes_sent, "\npackets_received ", stats.packets_received, "\nbytes_received ",
      stats.bytes_received, "\ndrops_queue_full ", stats.drops_queue_full, "\ndrops_truncated ",
      stats.drops_truncated, "\ndrops_too_big ", stats.drops_too_big, "\ndrops_no_send ",
      stats.drops_no_send, "\nconnections_refused ", stats.connections_refused, "\nbad_frames ",
      stats.bad_frames, "\n");
  for (const auto& [name, value] : stats.policy_counters) {
    absl::StrAppend(&text, name, " ", value, "\n");
  }
  return text;
}

const char* ModeName(PortMode mode) {
  switch (mode) {
    case PortMode::kReceive:
      return "r";
    case PortMode::kSend:
      return "w";
    case PortMode::kSendReceive:
      return "rw";
  }
  return "?";
}

std::string FormatPorts(const std::vector<PortInfo>& ports) {
  std::string text;
  for (const PortInfo& port : ports) {
    std::string command = port.owner.command.empty() ? "-" : port.owner.command;
    for (char& c : command) {
      if (absl::ascii_isspace(static_cast<unsigned char>(c)) || !absl::ascii_isprint(c)) c = '_';
    }
    absl::StrAppend(&text, "port=", port.id, " pid=", port.owner.pid, " uid=", port.owner.uid,
                    " comm=", command, " mode=", port.monitor ? "monitor" : ModeName(port.mode),
                    " in=", port.counters.packets_in, " out=", port.counters.packets_out,
                    " queued=", port.queued, " dropped=", port.counters.dropped, "\n");
  }
  return text;
}

}  // namespace ipnfs
