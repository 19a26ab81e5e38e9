#include "sock/send_gate.h"

#include <utility>

#include "core/waiters.h"

namespace ipnfs {

void ResumeRelay::Post(uint16_t index, uint32_t generation) {
  absl::MutexLock lock(&mu_);
  if (loop_ == nullptr) return;
  // Dropped unrun once the loop has ended: the connection is gone by then.
  loop_->Post(
      [relay = shared_from_this(), index, generation]() { relay->resume_(index, generation); });
}

void ResumeRelay::Detach() {
  absl::MutexLock lock(&mu_);
  loop_ = nullptr;
}

// The waiter of one send: tells its gate when the network is done with it, whether it was sent
// or not (a refused send was counted by the network; the connection goes on either way).
class SendGate::Waiter final : public SendWaiter {
 public:
  explicit Waiter(std::shared_ptr<SendGate> gate) : SendWaiter(0), gate_(std::move(gate)) {}
  bool Abandoned() const override { return false; }
  void Complete() override { gate_->Finished(); }
  void Fail(int) override { gate_->Finished(); }

 private:
  const std::shared_ptr<SendGate> gate_;
};

bool SendGate::Send(Port& port, PacketRef packet, absl::Time now) {
  state_.store(kSending, std::memory_order_release);
  port.SendPacket(std::move(packet), now, std::make_unique<Waiter>(shared_from_this()),
                  Waiting::kPark);
  int expected = kSending;
  if (state_.compare_exchange_strong(expected, kParked, std::memory_order_acq_rel)) return false;
  state_.store(kIdle, std::memory_order_release);  // kDone: over.
  return true;
}

void SendGate::Finished() {
  int expected = kSending;
  if (state_.compare_exchange_strong(expected, kDone, std::memory_order_acq_rel)) return;
  relay_->Post(index_, generation_);  // kParked: the connection waits for this.
}

}  // namespace ipnfs
