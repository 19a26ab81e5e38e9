#include "tests/tap/test_frames.h"

#include <cerrno>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tests/port_io.h"

namespace ipnfs::tests {
namespace {

constexpr size_t kEthernetHeader = 14;
constexpr size_t kMinimumFrame = 60;  // Without the frame check sequence.

std::string MacAt(absl::string_view frame, size_t offset) {
  if (frame.size() < offset + 6) return "";
  std::string mac;
  for (size_t i = 0; i < 6; ++i) {
    absl::StrAppendFormat(&mac, i == 0 ? "%02x" : ":%02x",
                          static_cast<unsigned char>(frame[offset + i]));
  }
  return mac;
}

// Sends the frame given in hex as argv[2] on the interface named by argv[1].
constexpr char kSendFrame[] =
    "import socket, sys\n"
    "s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n"
    "s.bind((sys.argv[1], 0))\n"
    "s.send(bytes.fromhex(sys.argv[2]))\n";

}  // namespace

FrameBuilder TestFrame(uint8_t marker) {
  return FrameBuilder()
      .From(MacAddress(MacAddress::Bytes{0x02, 0x00, 0x5e, 0x10, 0x00, marker}))
      .Payload(std::vector<uint8_t>(kMinimumFrame - kEthernetHeader, marker));
}

std::string TestFrameFilter(uint8_t marker) {
  return absl::StrFormat("ether proto 0x%04x and ether src 02:00:5e:10:00:%02x",
                         FrameBuilder::kExperimentalEtherType, marker);
}

uint16_t EtherTypeOf(absl::string_view frame) {
  return frame.size() < kEthernetHeader ? 0 : At16(frame, 12);
}

bool IsGroupAddressed(absl::string_view frame) {
  return frame.size() >= kEthernetHeader && (static_cast<unsigned char>(frame[0]) & 1) != 0;
}

bool IsArpBroadcast(absl::string_view frame) {
  return EtherTypeOf(frame) == FrameBuilder::kArpEtherType &&
         MacAt(frame, 0) == "ff:ff:ff:ff:ff:ff";
}

std::string SourceMacOf(absl::string_view frame) { return MacAt(frame, 6); }

std::string Describe(const std::vector<std::string>& frames) {
  std::string text;
  for (const std::string& frame : frames) {
    absl::StrAppendFormat(&text, "  %s > %s type 0x%04x, %d bytes\n", SourceMacOf(frame),
                          MacAt(frame, 0), EtherTypeOf(frame), frame.size());
  }
  return text;
}

absl::Status SendFrameOn(const NetworkNamespace& ns, const std::string& interface,
                         absl::string_view frame) {
  const CommandResult sent =
      ns.Exec({"/usr/bin/python3", "-c", kSendFrame, interface, absl::BytesToHexString(frame)});
  if (sent.exit_code == 0) return absl::OkStatus();
  std::ostringstream text;
  text << "cannot send a frame on " << interface << ": " << sent;
  return absl::InternalError(text.str());
}

std::optional<std::string> ReceiveFrame(int fd,
                                        const std::function<bool(absl::string_view)>& wanted,
                                        absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (absl::Duration left = timeout; left > absl::ZeroDuration(); left = deadline - absl::Now()) {
    const IoResult got = Receive(fd, left);
    if (got.error == 0 && wanted(got.bytes)) return got.bytes;
    if (got.error != 0 && got.error != EINTR) break;
  }
  return std::nullopt;
}

std::vector<std::string> DrainFrames(int fd) {
  std::vector<std::string> frames;
  for (IoResult got = ReadNow(fd); got.error == 0; got = ReadNow(fd)) {
    frames.push_back(std::move(got.bytes));
  }
  return frames;
}

}  // namespace ipnfs::tests
