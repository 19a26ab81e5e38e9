// Test helpers for the network core: fake waiters that record what the core did to them, and short
// ways to make a network, join it and read from a port. For network_test and flow_control_test.
#ifndef IPNFS_CORE_TEST_NETWORK_H_
#define IPNFS_CORE_TEST_NETWORK_H_

#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "core/network.h"
#include "core/network_config.h"
#include "core/port.h"
#include "core/waiters.h"

namespace ipnfs::test_network {

inline const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);
inline constexpr size_t kBigBuffer = 1 << 20;

inline const std::vector<uint8_t> kPacket = {0xde, 0xad, 0xbe, 0xef};
inline const std::vector<uint8_t> kFirst = {1}, kSecond = {2}, kThird = {3};

// What happened to one read request. Owned by the test; the fake waiter only points at it, since
// the core owns (and destroys) the waiter itself. Declared before the ports, so that it outlives
// any waiter a port still holds when the test ends.
struct ReadOutcome {
  int completions = 0;
  int failures = 0;
  std::vector<uint8_t> bytes;      // What the reader got, at most max_bytes().
  const Packet* packet = nullptr;  // Which packet completed it.
  int error_number = 0;
  // Filled only by readers that probe the network lock while being completed.
  bool network_was_unlocked = false;
  std::future<void> probe;

  int calls() const { return completions + failures; }
  bool pending() const { return calls() == 0; }
};

enum class Reader { kWaiting, kGaveUp };

// True when another thread can take `network`'s lock right now. When it cannot, the probe is left
// running in `probe` (it finishes once the lock is released, keeping the network alive until
// then) so that the caller does not block.
bool LockIsFree(std::shared_ptr<const Network> network, std::future<void>& probe);

class FakeReadWaiter final : public ReadWaiter {
 public:
  FakeReadWaiter(uint64_t id, size_t max_bytes, ReadOutcome& outcome, Reader reader,
                 std::shared_ptr<const Network> probe_lock_of);

  bool Abandoned() const override { return abandoned_; }
  void Complete(const Packet& packet) override;
  void Fail(int error_number) override;

 private:
  ReadOutcome& outcome_;
  const bool abandoned_;
  const std::shared_ptr<const Network> probe_lock_of_;  // Null: no probe.
};

std::unique_ptr<ReadWaiter> Read(ReadOutcome& outcome, uint64_t id = 1,
                                 size_t max_bytes = kBigBuffer);
std::unique_ptr<ReadWaiter> AbandonedRead(ReadOutcome& outcome, uint64_t id = 1);

// What happened to one write request parked under flow control.
struct SendOutcome {
  int completions = 0;
  int failures = 0;
  int error_number = 0;

  int calls() const { return completions + failures; }
  bool pending() const { return calls() == 0; }
};

class FakeSendWaiter final : public SendWaiter {
 public:
  FakeSendWaiter(uint64_t id, SendOutcome& outcome) : SendWaiter(id), outcome_(outcome) {}
  bool Abandoned() const override { return false; }
  void Complete() override { ++outcome_.completions; }
  void Fail(int error_number) override {
    ++outcome_.failures;
    outcome_.error_number = error_number;
  }

 private:
  SendOutcome& outcome_;
};

std::unique_ptr<SendWaiter> Write(SendOutcome& outcome, uint64_t id = 1);

// What happened to one poll registration. Declared before the ports, like ReadOutcome.
struct PollOutcome {
  int notifications = 0;
  bool destroyed = false;
  bool network_was_unlocked = false;
  std::future<void> probe;
};

class FakePollWaiter final : public PollWaiter {
 public:
  FakePollWaiter(PollOutcome& outcome, std::shared_ptr<const Network> probe_lock_of)
      : outcome_(outcome), probe_lock_of_(std::move(probe_lock_of)) {}
  ~FakePollWaiter() override { outcome_.destroyed = true; }

  void Notify() override;

 private:
  PollOutcome& outcome_;
  const std::shared_ptr<const Network> probe_lock_of_;  // Null: no probe.
};

std::unique_ptr<PollWaiter> Watch(PollOutcome& outcome);

NetworkConfig Config(Flow flow, size_t qlen, size_t mtu = 1500,
                     absl::Duration stall = absl::Minutes(10));

std::shared_ptr<Network> NewHub(NetworkConfig config = NetworkConfig{});

// Joins at `now`; a refused join fails the test (and the null port then crashes it).
std::unique_ptr<Port> JoinAs(Network& network, PortMode mode, absl::Time now = kStart);

// Reads one packet at `now` without blocking; the outcome tells what happened.
ReadOutcome ReadNow(Port& port, size_t max_bytes = kBigBuffer, absl::Time now = kStart);

}  // namespace ipnfs::test_network

#endif  // IPNFS_CORE_TEST_NETWORK_H_
