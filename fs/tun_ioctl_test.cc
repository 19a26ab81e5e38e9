#include "fs/tun_ioctl.h"

#include <gtest/gtest.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

namespace ipnfs {
namespace {

std::vector<uint8_t> Int(int value) {
  std::vector<uint8_t> bytes(sizeof(value));
  std::memcpy(bytes.data(), &value, sizeof(value));
  return bytes;
}

int AsInt(const std::vector<uint8_t>& bytes) {
  int value = -1;
  EXPECT_EQ(bytes.size(), sizeof(value));
  if (bytes.size() == sizeof(value)) std::memcpy(&value, bytes.data(), sizeof(value));
  return value;
}

TEST(TunIoctl, GetIffAnswersFourZeroBytes) {
  uint32_t header = 0;
  IoctlReply reply = HandleTunIoctl(TUNGETIFF, {}, true, &header);
  EXPECT_EQ(reply.error, 0);
  EXPECT_EQ(reply.out, std::vector<uint8_t>(4, 0));
}

TEST(TunIoctl, GetIffRefusesAPortThatCannotBothSendAndReceive) {
  uint32_t header = 0;
  EXPECT_EQ(HandleTunIoctl(TUNGETIFF, {}, false, &header).error, EBADF);
}

TEST(TunIoctl, VnetHeaderLengthStartsAtZeroAndTheLastSetWins) {
  uint32_t header = 0;
  EXPECT_EQ(AsInt(HandleTunIoctl(TUNGETVNETHDRSZ, {}, true, &header).out), 0);
  EXPECT_EQ(HandleTunIoctl(TUNSETVNETHDRSZ, Int(12), true, &header).error, 0);
  EXPECT_EQ(HandleTunIoctl(TUNSETVNETHDRSZ, Int(10), true, &header).error, 0);
  EXPECT_EQ(AsInt(HandleTunIoctl(TUNGETVNETHDRSZ, {}, true, &header).out), 10);
  EXPECT_EQ(header, 10u);
}

TEST(TunIoctl, SetAcceptsOnlyZeroTenTwelveOrTheCurrentLength) {
  uint32_t header = 0;
  EXPECT_EQ(HandleTunIoctl(TUNSETVNETHDRSZ, Int(11), true, &header).error, EINVAL);
  EXPECT_EQ(HandleTunIoctl(TUNSETVNETHDRSZ, Int(-1), true, &header).error, EINVAL);
  EXPECT_EQ(header, 0u);
  EXPECT_EQ(HandleTunIoctl(TUNSETVNETHDRSZ, Int(0), true, &header).error, 0);
  EXPECT_EQ(HandleTunIoctl(TUNSETVNETHDRSZ, {}, true, &header).error, EINVAL);
}

TEST(TunIoctl, QueueBufferAndEndiannessSettingsAreAccepted) {
  uint32_t header = 0;
  for (unsigned cmd : {TUNSETSNDBUF, TUNSETQUEUE, TUNSETVNETLE, TUNSETVNETBE}) {
    EXPECT_EQ(HandleTunIoctl(cmd, Int(1), true, &header).error, 0) << cmd;
  }
  EXPECT_EQ(header, 0u);
}

TEST(TunIoctl, EverythingElseIsNotATty) {
  uint32_t header = 0;
  EXPECT_EQ(HandleTunIoctl(TUNSETIFF, Int(0), true, &header).error, ENOTTY);
  EXPECT_EQ(HandleTunIoctl(TUNSETOFFLOAD, Int(0), true, &header).error, ENOTTY);
  EXPECT_EQ(HandleTunIoctl(0x5401 /* TCGETS */, {}, true, &header).error, ENOTTY);
}

}  // namespace
}  // namespace ipnfs
