#include "policies/frame_builder.h"

#include <utility>

namespace ipnfs {
namespace {

void AppendU16(uint16_t value, std::vector<uint8_t>* out) {
  out->push_back(static_cast<uint8_t>(value >> 8));
  out->push_back(static_cast<uint8_t>(value & 0xff));
}

void AppendU32(uint32_t value, std::vector<uint8_t>* out) {
  AppendU16(static_cast<uint16_t>(value >> 16), out);
  AppendU16(static_cast<uint16_t>(value), out);
}

// TCP ports 1000 -> 2000, ack 5, no options, window 1000, checksum field 0xabcd.
void AppendTcp(uint32_t sequence, uint8_t flags, std::vector<uint8_t>* out) {
  AppendU16(1000, out);
  AppendU16(2000, out);
  AppendU32(sequence, out);
  AppendU32(5, out);
  out->push_back(5 << 4);
  out->push_back(flags);
  AppendU16(1000, out);
  AppendU16(0xabcd, out);
  AppendU16(0, out);
}

void AppendPattern(size_t n, std::vector<uint8_t>* out) {
  for (size_t i = 0; i < n; ++i) out->push_back(static_cast<uint8_t>(i % 251));
}

// A frame from TestMac(1) to TestMac(2) carrying `packet` as `ethertype`.
std::vector<uint8_t> TcpFrame(uint16_t ethertype, std::vector<uint8_t> packet) {
  return FrameBuilder()
      .To(TestMac(2))
      .From(TestMac(1))
      .EtherType(ethertype)
      .Payload(std::move(packet))
      .Build();
}

}  // namespace

MacAddress TestMac(uint8_t last) { return MacAddress(MacAddress::Bytes{2, 0, 0, 0, 0, last}); }

FrameBuilder& FrameBuilder::To(const MacAddress& destination) {
  destination_ = destination;
  return *this;
}

FrameBuilder& FrameBuilder::From(const MacAddress& source) {
  source_ = source;
  return *this;
}

FrameBuilder& FrameBuilder::Vlan(VlanId vlan) {
  vlan_ = vlan;
  return *this;
}

FrameBuilder& FrameBuilder::EtherType(uint16_t ethertype) {
  ethertype_ = ethertype;
  return *this;
}

FrameBuilder& FrameBuilder::Payload(std::vector<uint8_t> payload) {
  payload_ = std::move(payload);
  return *this;
}

FrameBuilder& FrameBuilder::PayloadText(absl::string_view payload) {
  payload_.assign(payload.begin(), payload.end());
  return *this;
}

std::vector<uint8_t> FrameBuilder::Build() const {
  std::vector<uint8_t> frame(destination_.bytes().begin(), destination_.bytes().end());
  frame.insert(frame.end(), source_.bytes().begin(), source_.bytes().end());
  if (vlan_.has_value()) {
    AppendU16(EthernetFrame::kVlanTpid, &frame);
    AppendU16(*vlan_, &frame);
  }
  AppendU16(ethertype_, &frame);
  frame.insert(frame.end(), payload_.begin(), payload_.end());
  return frame;
}

std::string FrameBuilder::BuildString() const {
  const std::vector<uint8_t> frame = Build();
  return std::string(frame.begin(), frame.end());
}

std::vector<uint8_t> Tcp4Packet(size_t payload, uint8_t tcp_flags) {
  std::vector<uint8_t> ip = {0x45, 0};
  AppendU16(static_cast<uint16_t>(40 + payload), &ip);
  AppendU16(0x1234, &ip);
  AppendU16(0x4000, &ip);
  ip.insert(ip.end(), {64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2});
  AppendTcp(0x01020304, tcp_flags, &ip);
  AppendPattern(payload, &ip);
  return TcpFrame(FrameBuilder::kIpv4EtherType, std::move(ip));
}

std::vector<uint8_t> Tcp6Packet(size_t payload, uint32_t sequence, uint8_t tcp_flags) {
  std::vector<uint8_t> ip = {0x60, 0, 0, 0};
  AppendU16(static_cast<uint16_t>(20 + payload), &ip);
  ip.insert(ip.end(), {6, 64});
  for (uint8_t last : {1, 2}) {
    ip.push_back(0xfd);
    ip.insert(ip.end(), 14, 0);
    ip.push_back(last);
  }
  AppendTcp(sequence, tcp_flags, &ip);
  AppendPattern(payload, &ip);
  return TcpFrame(FrameBuilder::kIpv6EtherType, std::move(ip));
}

uint16_t At16(absl::Span<const uint8_t> bytes, size_t at) {
  return static_cast<uint16_t>(bytes[at] << 8 | bytes[at + 1]);
}

uint32_t At32(absl::Span<const uint8_t> bytes, size_t at) {
  return static_cast<uint32_t>(At16(bytes, at)) << 16 | At16(bytes, at + 2);
}

uint16_t At16(absl::string_view bytes, size_t at) {
  return At16(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
              at);
}

uint32_t At32(absl::string_view bytes, size_t at) {
  return static_cast<uint32_t>(At16(bytes, at)) << 16 | At16(bytes, at + 2);
}

}  // namespace ipnfs
