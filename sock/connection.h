// Connection: one accepted connection of a socket face as the SocketLoop keeps it: the socket, the
// network Port it is (from the Admission), its receive buffers, what it received and has not sent
// into the network yet, and its batch of writes. It moves packets between the two sides but never
// touches the ring: the loop issues the receives and writes this class hands out.
//
// Peer -> network: a seqpacket connection has several receive slots armed, each a buffer with room
// for the MTU and one byte more (so that an over-MTU message shows), and sends what they received
// in the order the receives completed; a stream connection has one buffer and cuts it into frames
// (StreamDeframer). Under flow control "block" each send goes through the SendGate: while one is
// parked the connection sends nothing more and its slots are not re-armed, so the peer's writes
// block in its own socket; nothing is lost and no thread waits.
//
// Owned by the SocketLoop and used only on its thread. Destroying it makes its port leave the
// network, then closes the socket; the loop does so only when no request on its buffers is in
// flight.
#ifndef IPNFS_SOCK_CONNECTION_H_
#define IPNFS_SOCK_CONNECTION_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/face_backend.h"
#include "core/network_config.h"
#include "core/port.h"
#include "sock/send_gate.h"
#include "sock/socket_loop.h"
#include "sock/stream_deframer.h"
#include "sock/write_batch.h"
#include "uring/doorbell.h"
#include "uring/scoped_fd.h"

namespace ipnfs {

class Connection {
 public:
  // What Pump() left the connection with.
  enum class Pumped {
    kDrained,   // Everything received went into the network: re-arm the idle slots.
    kParked,    // A send waits for room ("block"): read nothing until the gate resumes.
    kEof,       // The peer closed its end (after everything it sent before went in).
    kBadFrame,  // A stream length prefix of 0 or above the MTU: see bad_length().
  };

  // Connection `gate`'s index and generation in the loop's table, accepted on face `kind` of
  // network `ino` and admitted with `admission`.
  Connection(ino_t ino, FaceKind kind, ScopedFd socket, Admission admission, std::string label,
             std::shared_ptr<Doorbell> doorbell, std::shared_ptr<SendGate> gate,
             const SocketLoopOptions& options);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  ino_t ino() const { return ino_; }
  FaceKind kind() const { return kind_; }
  int fd() const { return socket_.get(); }
  const std::string& label() const { return label_; }
  const std::string& leave_event() const { return leave_event_; }
  Port& port() { return *port_; }
  Doorbell& doorbell() { return *doorbell_; }
  WriteBatch& writes() { return writes_; }
  Flow flow() const { return flow_; }

  // Reads the network's MTU and flow control, at most once per loop batch `batch`.
  void Refresh(uint64_t batch);

  // Receive slots: as many as options.seqpacket_reads for seqpacket, one for a stream.
  size_t read_slots() const { return slots_.size(); }
  // True when slot `i` holds nothing and has no receive in flight: it may be armed.
  bool SlotIdle(size_t i) const { return slots_[i].state == SlotState::kIdle; }
  // Arms slot `i`: the buffer a receive may fill (for seqpacket, sized for the current MTU).
  absl::Span<uint8_t> ArmSlot(size_t i);
  // The receive on slot `i` returned `bytes` (0: the peer closed its end).
  void Received(size_t i, size_t bytes);

  // Sends what was received into the network, oldest first, until all is sent or a send is
  // parked. Packets that the network refuses (over the MTU, from a receive-only port, dropped by
  // flow control "drop") are counted by it, and the connection goes on.
  Pumped Pump(absl::Time now);
  bool parked() const { return parked_; }
  // The parked send completed (the loop got the gate's resumption).
  void Resumed();
  uint32_t bad_length() const { return deframer_.bad_length(); }

  // While no write batch is in flight: takes the packets queued on the port (as many as a batch
  // holds) into writes().packets() and returns how many. When the queue runs empty the doorbell
  // is armed, so that it rings once something is queued.
  size_t TakeQueued(absl::Time now);
  // Takes no more packets and fails a parked send: the connection is closing.
  void StopWatching();

  // Event loop bookkeeping.
  uint16_t index = 0;       // Of its entry in the loop's table.
  uint32_t generation = 0;  // Of that entry.
  int in_flight = 0;        // Requests on this connection not completed yet.
  bool closing = false;     // Being closed: nothing new is issued.

 private:
  enum class SlotState { kIdle, kArmed, kHeld };
  struct Slot {
    std::unique_ptr<uint8_t[]> buffer;
    size_t capacity = 0;
    SlotState state = SlotState::kIdle;
  };
  // A completed seqpacket receive waiting to be sent: its slot and size (0: end of file).
  struct Arrival {
    uint16_t slot;
    uint32_t bytes;
  };

  Pumped PumpMessages(absl::Time now);
  Pumped PumpStream(absl::Time now);
  // The peer closed its end (or shut it for writing): a receive of 0 bytes is the end, not an
  // empty message.
  bool PeerClosed() const;
  // The packet of a message of `bytes` in `slot` (null when it cannot be had).
  PacketRef MessagePacket(Slot& slot, size_t bytes, absl::Time now);
  // Sends `packet` as the network's flow control says; false when it is parked.
  bool Send(PacketRef packet, absl::Time now);

  const ino_t ino_;
  const FaceKind kind_;
  const ScopedFd socket_;  // Closed after the port left (members go in reverse order).
  const std::unique_ptr<Port> port_;
  const std::string leave_event_;
  const std::string label_;
  const std::shared_ptr<Doorbell> doorbell_;
  const std::shared_ptr<SendGate> gate_;
  const size_t stream_buffer_;

  uint64_t refreshed_ = ~uint64_t{0};  // The batch the settings were read in.
  size_t mtu_ = 0;
  Flow flow_ = Flow::kDrop;
  bool parked_ = false;
  bool eof_ = false;  // Stream: the peer closed its end.

  std::vector<Slot> slots_;
  std::vector<Arrival> received_;  // A ring of completed receives, oldest at received_head_.
  size_t received_head_ = 0;
  size_t received_count_ = 0;
  StreamDeframer deframer_;
  WriteBatch writes_;
};

}  // namespace ipnfs

#endif  // IPNFS_SOCK_CONNECTION_H_
