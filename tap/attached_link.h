// AttachedLink: one attached interface as the event loop keeps it: the kernel Link, the network
// Port it joined, its frame slots and counters. It moves frames between the two sides but never
// touches the ring: the loop issues the reads and writes on the slots this class hands out. Its
// port accepts offloads when the link does (a tap): GSO packets then pass through it whole.
//
// Owned by the event loop and used only on its thread. Destroying it leaves the network and closes
// the interface (deleting a tap); the loop does so only when no request on its slots is in flight.
#ifndef IPNFS_TAP_ATTACHED_LINK_H_
#define IPNFS_TAP_ATTACHED_LINK_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/port.h"
#include "tap/frame_slot.h"
#include "tap/link.h"
#include "tap/link_counters.h"
#include "tap/write_slot.h"
#include "uring/doorbell.h"

namespace ipnfs {

struct SlotCounts {
  size_t reads = 16;   // Reads kept armed on the interface.
  size_t writes = 32;  // Writes in flight at most; further frames wait in the port's queue.
};

class AttachedLink {
 public:
  // Frames of up to `frame_capacity` bytes go through; larger ones are dropped and counted.
  AttachedLink(uint64_t id, std::unique_ptr<Link> link, std::unique_ptr<Port> port,
               std::shared_ptr<LinkCounters> counters, std::shared_ptr<Doorbell> doorbell,
               size_t frame_capacity, SlotCounts slots);
  AttachedLink(const AttachedLink&) = delete;
  AttachedLink& operator=(const AttachedLink&) = delete;
  ~AttachedLink();

  uint64_t id() const { return id_; }
  Link& link() { return *link_; }
  LinkCounters& counters() { return *counters_; }
  Doorbell& doorbell() { return *doorbell_; }
  // "tap:NAME" or "grab:NAME".
  const std::string& label() const { return port_->owner().command; }

  size_t read_slots() const { return reads_.size(); }
  FrameSlot& read_slot(size_t i) { return *reads_[i]; }
  WriteSlot& write_slot(size_t i) { return *writes_[i]; }

  // Sends into the network, at `now`, the frame that a read which returned `bytes` left in read
  // slot `i`; a frame the link or the network refuses is dropped and counted.
  void Forward(size_t i, size_t bytes, absl::Time now);

  // Takes the frames queued on the port, as many as there are free write slots, in one batch (read
  // at the current time): each goes into a free write slot (by reference, not copied), which is
  // marked busy; `ready` gets their indices, oldest frame first. When the queue runs empty the
  // doorbell is armed, so it rings once something is queued; when the slots run out, call again
  // once a write completed.
  void TakeQueuedFrames(std::vector<size_t>& ready);

  // Frees write slot `i` after its write returned `result` (bytes, or -errno), counting it.
  void Written(size_t i, int result);

  // Takes no more frames from the port: its doorbell stays silent from now on.
  void StopWatching();

  // Event loop bookkeeping.
  uint16_t index = 0;       // Of its entry in the loop's table.
  uint32_t generation = 0;  // Of that entry.
  int in_flight = 0;        // Requests on this link not completed yet.
  bool closing = false;     // Being detached: nothing new is issued.
  bool gone = false;        // Closing because the interface disappeared.
  int failed_reads = 0;     // Read errors in a row.

 private:
  const uint64_t id_;
  const std::unique_ptr<Link> link_;
  const std::unique_ptr<Port> port_;
  const std::shared_ptr<LinkCounters> counters_;
  const std::shared_ptr<Doorbell> doorbell_;
  const size_t frame_capacity_;
  std::vector<std::unique_ptr<FrameSlot>> reads_;
  std::vector<std::unique_ptr<WriteSlot>> writes_;
  std::vector<size_t> free_writes_;
  std::vector<PacketRef> taken_;  // Scratch space for TakeQueuedFrames.
};

}  // namespace ipnfs

#endif  // IPNFS_TAP_ATTACHED_LINK_H_
