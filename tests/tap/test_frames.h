// Ethernet frames for the tap integration tests: a recognisable test frame (made with the one
// FrameBuilder), a few header fields, sending a raw frame on a kernel interface, and reading
// frames from a network file.
// Thread-safe (no state).
#ifndef IPNFS_TESTS_TAP_TEST_FRAMES_H_
#define IPNFS_TESTS_TAP_TEST_FRAMES_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "policies/frame_builder.h"
#include "tests/tap/network_namespace.h"

namespace ipnfs::tests {

// A 60-byte broadcast frame of EtherType 0x88b5 (FrameBuilder's default) from
// 02:00:5e:10:00:MARKER, padded with `marker`: Build() or BuildString() it.
FrameBuilder TestFrame(uint8_t marker);
// The pcap filter that matches TestFrame(marker) and nothing else on the wire.
std::string TestFrameFilter(uint8_t marker);

// Header fields; 0 / false for a frame shorter than an Ethernet header.
uint16_t EtherTypeOf(absl::string_view frame);
// True when the destination is a group address (broadcast or multicast): flooded by a switch.
bool IsGroupAddressed(absl::string_view frame);
// True for an ARP frame to ff:ff:ff:ff:ff:ff.
bool IsArpBroadcast(absl::string_view frame);
// Source MAC as "aa:bb:cc:dd:ee:ff".
std::string SourceMacOf(absl::string_view frame);
// One line per frame: destination, source, EtherType; for failure messages.
std::string Describe(const std::vector<std::string>& frames);

// Sends `frame` as it is on `interface` of `ns`, through an AF_PACKET socket (python3).
absl::Status SendFrameOn(const NetworkNamespace& ns, const std::string& interface,
                         absl::string_view frame);

// Reads packets from the network file `fd` for up to `timeout`; the first one `wanted` accepts
// (the others are discarded), or nullopt.
std::optional<std::string> ReceiveFrame(int fd,
                                        const std::function<bool(absl::string_view)>& wanted,
                                        absl::Duration timeout = absl::Seconds(5));
// Every packet queued on `fd` now, without waiting.
std::vector<std::string> DrainFrames(int fd);

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_TAP_TEST_FRAMES_H_
