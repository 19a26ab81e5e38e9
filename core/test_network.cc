#include "core/test_network.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "policies/hub_policy.h"

namespace ipnfs::test_network {

bool LockIsFree(std::shared_ptr<const Network> network, std::future<void>& probe) {
  probe = std::async(std::launch::async, [network] { network->stats(); });
  return probe.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
}

FakeReadWaiter::FakeReadWaiter(uint64_t id, size_t max_bytes, ReadOutcome& outcome, Reader reader,
                               std::shared_ptr<const Network> probe_lock_of)
    : ReadWaiter(id, max_bytes),
      outcome_(outcome),
      abandoned_(reader == Reader::kGaveUp),
      probe_lock_of_(std::move(probe_lock_of)) {}

void FakeReadWaiter::Complete(const Packet& packet) {
  ++outcome_.completions;
  absl::Span<const uint8_t> bytes = packet.bytes();
  const size_t n = std::min(bytes.size(), max_bytes());
  outcome_.bytes.assign(bytes.begin(), bytes.begin() + n);
  outcome_.packet = &packet;
  if (probe_lock_of_ != nullptr) {
    outcome_.network_was_unlocked = LockIsFree(probe_lock_of_, outcome_.probe);
  }
}

void FakeReadWaiter::Fail(int error_number) {
  ++outcome_.failures;
  outcome_.error_number = error_number;
}

std::unique_ptr<ReadWaiter> Read(ReadOutcome& outcome, uint64_t id, size_t max_bytes) {
  return std::make_unique<FakeReadWaiter>(id, max_bytes, outcome, Reader::kWaiting, nullptr);
}

std::unique_ptr<ReadWaiter> AbandonedRead(ReadOutcome& outcome, uint64_t id) {
  return std::make_unique<FakeReadWaiter>(id, kBigBuffer, outcome, Reader::kGaveUp, nullptr);
}

std::unique_ptr<SendWaiter> Write(SendOutcome& outcome, uint64_t id) {
  return std::make_unique<FakeSendWaiter>(id, outcome);
}

void FakePollWaiter::Notify() {
  ++outcome_.notifications;
  if (probe_lock_of_ != nullptr) {
    outcome_.network_was_unlocked = LockIsFree(probe_lock_of_, outcome_.probe);
  }
}

std::unique_ptr<PollWaiter> Watch(PollOutcome& outcome) {
  return std::make_unique<FakePollWaiter>(outcome, nullptr);
}

NetworkConfig Config(Flow flow, size_t qlen, size_t mtu, absl::Duration stall) {
  NetworkConfig config;
  config.flow = flow;
  config.qlen = qlen;
  config.mtu = mtu;
  config.stall = stall;
  return config;
}

std::shared_ptr<Network> NewHub(NetworkConfig config) {
  return Network::Create(std::make_unique<HubPolicy>(), config);
}

std::unique_ptr<Port> JoinAs(Network& network, PortMode mode, absl::Time now) {
  absl::StatusOr<std::unique_ptr<Port>> port = network.Join(mode, PortOwner{}, now);
  EXPECT_TRUE(port.ok()) << port.status();
  return port.ok() ? *std::move(port) : nullptr;
}

ReadOutcome ReadNow(Port& port, size_t max_bytes, absl::Time now) {
  ReadOutcome outcome;
  port.Receive(Read(outcome, 1, max_bytes), Waiting::kNever, now);
  return outcome;
}

}  // namespace ipnfs::test_network
