// Introspection: the text of the read-only attributes user.ipn.stats and user.ipn.ports.
//
//   user.ipn.stats: one "NAME VALUE" line per counter (ports, packets_sent, bytes_sent,
//     packets_received, bytes_received, drops_queue_full, drops_truncated, drops_too_big), then
//     the policy's own counters.
//   user.ipn.ports: one line per port, "port=ID pid=PID uid=UID comm=NAME mode=r|w|rw|monitor in=N
//     out=N queued=N dropped=N" (white space in NAME becomes '_').
// Pure functions; thread-safe.
#ifndef IPNFS_CORE_INTROSPECTION_H_
#define IPNFS_CORE_INTROSPECTION_H_

#include <string>
#include <vector>

#include "core/network.h"

namespace ipnfs {

std::string FormatStats(const NetworkStats& stats);
std::string FormatPorts(const std::vector<PortInfo>& ports);
// "r", "w" or "rw".
const char* ModeName(PortMode mode);

}  // namespace ipnfs

#endif  // IPNFS_CORE_INTROSPECTION_H_
