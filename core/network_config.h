// NetworkConfig: the settings of one network, as plain values.
#ifndef IPNFS_CORE_NETWORK_CONFIG_H_
#define IPNFS_CORE_NETWORK_CONFIG_H_

#include <cstddef>
#include <string>

#include "absl/time/time.h"

namespace ipnfs {

// What happens when a receiver's queue is full.
enum class Flow {
  kDrop,   // The packet is dropped for that receiver only, and counted.
  kBlock,  // The sender waits until its packet's receivers have room (lossless), unless one is
           // stalled; with a policy that chooses by room (anycast), until one has room.
};

// What the packets are, for capture tools (the pcap link type of /ipn/.pcap/...).
enum class LinkType {
  kEthernet,  // LINKTYPE_ETHERNET (1).
  kUser0,     // LINKTYPE_USER0 (147): payloads that are not Ethernet frames.
};

struct NetworkConfig {
  std::string policy = "hub";  // Name of the delivery policy.
  size_t mtu = 65536;          // Largest packet, in bytes.
  size_t qlen = 256;           // Packets queued per port.
  Flow flow = Flow::kDrop;
  absl::Duration stall = absl::Milliseconds(1000);  // kBlock: a reader this slow is skipped.
  size_t max_ports = 0;                             // Ports at most; 0 = unlimited.
  absl::Duration ageing = absl::Seconds(300);       // Learning policies forget entries this old.
  size_t max_macs = 4096;                           // Learning policies learn this many at most.
  LinkType link_type = LinkType::kEthernet;
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_NETWORK_CONFIG_H_
