#include "policies/frame_builder.h"

#include <utility>

namespace ipnfs {
namespace {

constexpr uint16_t kExperimentalEtherType = 0x88b5;

void AppendU16(uint16_t value, std::vector<uint8_t>* out) {
  out->push_back(static_cast<uint8_t>(value >> 8));
  out->push_back(static_cast<uint8_t>(value & 0xff));
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

FrameBuilder& FrameBuilder::Payload(std::vector<uint8_t> payload) {
  payload_ = std::move(payload);
  return *this;
}

std::vector<uint8_t> FrameBuilder::Build() const {
  std::vector<uint8_t> frame(destination_.bytes().begin(), destination_.bytes().end());
  frame.insert(frame.end(), source_.bytes().begin(), source_.bytes().end());
  if (vlan_.has_value()) {
    AppendU16(EthernetFrame::kVlanTpid, &frame);
    AppendU16(*vlan_, &frame);
  }
  AppendU16(kExperimentalEtherType, &frame);
  frame.insert(frame.end(), payload_.begin(), payload_.end());
  return frame;
}

}  // namespace ipnfs
