#include "sock/connection.h"

#include <poll.h>

#include <algorithm>
#include <utility>

#include "core/log.h"
#include "core/network.h"

namespace ipnfs {
namespace {

// Messages from this size on enter the network in their receive buffer (no copy), and the slot
// gets a new one; smaller ones are copied, so that queued packets do not pin whole buffers.
constexpr size_t kAdoptBytes = 16 * 1024;

// A seqpacket buffer holds an Ethernet frame at least, whatever the MTU.
constexpr size_t kMinMessageBytes = 1518;

}  // namespace

Connection::Connection(ino_t ino, FaceKind kind, ScopedFd socket, Admission admission,
                       std::string label, std::shared_ptr<Doorbell> doorbell,
                       std::shared_ptr<SendGate> gate, const SocketLoopOptions& options)
    : ino_(ino),
      kind_(kind),
      socket_(std::move(socket)),
      port_(std::move(admission.port)),
      leave_event_(std::move(admission.leave_event)),
      label_(std::move(label)),
      doorbell_(std::move(doorbell)),
      gate_(std::move(gate)),
      stream_buffer_(std::max<size_t>(options.stream_buffer, StreamDeframer::kHeaderBytes)),
      slots_(kind == FaceKind::kSeqpacket ? std::max<size_t>(options.seqpacket_reads, 1) : 1),
      received_(slots_.size()),
      deframer_(0),
      writes_(kind, std::clamp<size_t>(options.writes, 1, 128)) {}

// The port goes first: it leaves the network before the socket closes.
Connection::~Connection() = default;

void Connection::Refresh(uint64_t batch) {
  if (batch == refreshed_) return;
  refreshed_ = batch;
  const NetworkConfig config = port_->network().config();
  mtu_ = config.mtu;
  flow_ = config.flow;
  deframer_.set_max_frame(mtu_);
}

absl::Span<uint8_t> Connection::ArmSlot(size_t i) {
  Slot& slot = slots_[i];
  slot.state = SlotState::kArmed;
  if (kind_ == FaceKind::kStream) {
    if (slot.buffer == nullptr) {
      slot.buffer = std::make_unique_for_overwrite<uint8_t[]>(stream_buffer_);
      slot.capacity = stream_buffer_;
    }
    return {slot.buffer.get(), slot.capacity};
  }
  // Room for the MTU and one byte more: a message that fills the buffer is over the MTU. A buffer
  // far larger than needed (the MTU shrank) is given back.
  const size_t needed = std::max(mtu_, kMinMessageBytes) + 1;
  if (slot.buffer == nullptr || slot.capacity < needed || slot.capacity > 2 * needed) {
    slot.buffer = std::make_unique_for_overwrite<uint8_t[]>(needed);
    slot.capacity = needed;
  }
  return {slot.buffer.get(), slot.capacity};
}

void Connection::Received(size_t i, size_t bytes) {
  slots_[i].state = SlotState::kHeld;
  if (kind_ == FaceKind::kStream) {
    if (bytes == 0) {
      eof_ = true;
    } else {
      deframer_.Feed(absl::Span<const uint8_t>(slots_[i].buffer.get(), bytes));
    }
    return;
  }
  const size_t tail = (received_head_ + received_count_) % received_.size();
  received_[tail] =
      Arrival{.slot = static_cast<uint16_t>(i), .bytes = static_cast<uint32_t>(bytes)};
  ++received_count_;
}

Connection::Pumped Connection::Pump(absl::Time now) {
  if (parked_) return Pumped::kParked;
  return kind_ == FaceKind::kSeqpacket ? PumpMessages(now) : PumpStream(now);
}

Connection::Pumped Connection::PumpMessages(absl::Time now) {
  while (received_count_ > 0) {
    const Arrival arrival = received_[received_head_];
    received_head_ = (received_head_ + 1) % received_.size();
    --received_count_;
    Slot& slot = slots_[arrival.slot];
    slot.state = SlotState::kIdle;
    if (arrival.bytes == 0) {
      // The end of the connection, or an empty message: no packet, counted as a bad frame.
      if (PeerClosed()) return Pumped::kEof;
      IPN_LOG(DEBUG) << label_ << ": an empty message: dropped";
      port_->network().CountBadFrame();
      continue;
    }
    PacketRef packet = MessagePacket(slot, arrival.bytes, now);
    if (packet != nullptr && !Send(std::move(packet), now)) return Pumped::kParked;
  }
  return Pumped::kDrained;
}

bool Connection::PeerClosed() const {
  pollfd peer{.fd = socket_.get(), .events = POLLRDHUP, .revents = 0};
  return poll(&peer, 1, 0) != 0 && (peer.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

PacketRef Connection::MessagePacket(Slot& slot, size_t bytes, absl::Time now) {
  if (bytes <= slot.capacity && bytes < kAdoptBytes) {
    return Packet::Create(absl::Span<const uint8_t>(slot.buffer.get(), bytes), now);
  }
  if (bytes <= slot.capacity) {
    slot.capacity = 0;  // A new buffer when armed again.
    return Packet::Adopt(std::move(slot.buffer), 0, bytes, now);
  }
  // Truncated (the receive reports the message's real size). The buffer had room for the MTU
  // and one byte when armed, so the message is over the MTU: the network refuses the buffer's
  // worth of it and counts one drop (drops_too_big). Unless the MTU grew meanwhile: then it is
  // lost uncounted, once.
  if (slot.capacity > mtu_) {
    const size_t kept = slot.capacity;
    slot.capacity = 0;
    return Packet::Adopt(std::move(slot.buffer), 0, kept, now);
  }
  IPN_LOG(WARNING) << label_ << ": a message of " << bytes << " bytes came while the MTU grew to "
                   << mtu_ << ": it is lost";
  return nullptr;
}

Connection::Pumped Connection::PumpStream(absl::Time now) {
  while (true) {
    absl::Span<const uint8_t> frame;
    switch (deframer_.Next(frame)) {
      case StreamDeframer::Result::kNeedMore:
        slots_[0].state = SlotState::kIdle;  // Everything in the buffer was cut.
        return eof_ ? Pumped::kEof : Pumped::kDrained;
      case StreamDeframer::Result::kBadLength:
        return Pumped::kBadFrame;
      case StreamDeframer::Result::kFrame:
        break;
    }
    // A frame assembled across receives is already in a buffer of its own; one that lies in the
    // receive buffer is copied out of it.
    std::unique_ptr<uint8_t[]> own = deframer_.TakeFrameBuffer();
    PacketRef packet = own != nullptr ? Packet::Adopt(std::move(own), 0, frame.size(), now)
                                      : Packet::Create(frame, now);
    if (!Send(std::move(packet), now)) return Pumped::kParked;
  }
}

bool Connection::Send(PacketRef packet, absl::Time now) {
  if (flow_ != Flow::kBlock) {
    // EMSGSIZE, EBADF (receive-only), EAGAIN: counted by the network, the packet is dropped.
    port_->SendPacket(std::move(packet), now).IgnoreError();
    return true;
  }
  if (gate_->Send(*port_, std::move(packet), now)) return true;
  parked_ = true;
  return false;
}

void Connection::Resumed() {
  gate_->Resumed();
  parked_ = false;
}

size_t Connection::TakeQueued(absl::Time now) {
  std::vector<PacketRef>& taken = writes_.packets();
  while (true) {
    if (port_->TakeQueued(writes_.max_packets(), taken, now) > 0) return taken.size();
    // A waiter that has not fired yet means nothing was queued since it was registered: it
    // rings when something is. Else register one; a packet may have come in meanwhile.
    if (doorbell_->Watching()) return 0;
    if (!port_->Poll(std::make_unique<DoorbellWaiter>(doorbell_), now).readable) return 0;
  }
}

void Connection::StopWatching() { port_->CancelAll(ECANCELED); }

}  // namespace ipnfs
