// LinkCounters: what happened to the frames of one attached interface, counted by the event loop
// and read by anyone (the backend's Counters()).
//
// Thread-safe: relaxed atomics, each counter exact on its own.
#ifndef IPNFS_TAP_LINK_COUNTERS_H_
#define IPNFS_TAP_LINK_COUNTERS_H_

#include <atomic>
#include <cstdint>

namespace ipnfs {

// A snapshot of LinkCounters.
struct InterfaceCounters {
  // Frames read from the interface and sent into the network (a GSO packet from a tap with
  // offloads counts as one frame, of all its bytes).
  uint64_t frames_in = 0;
  uint64_t bytes_in = 0;
  // Frames read but not sent: truncated, or refused by the network (over its MTU, or receivers
  // full under flow control).
  uint64_t drops_in = 0;
  // Frames delivered by the network and written to the interface.
  uint64_t frames_out = 0;
  uint64_t bytes_out = 0;
  // Frames delivered but not written: the kernel refused them (EAGAIN, ENOBUFS, EIO, EMSGSIZE,
  // ...), they were too big for a frame slot, or cut short. Frames the port's queue dropped
  // before the backend could take them are counted by the port (PortCounters::dropped).
  uint64_t drops_out = 0;
  // Reads that failed while the interface stayed (e.g. it went down).
  uint64_t read_errors = 0;
};

class LinkCounters {
 public:
  void FrameIn(uint64_t bytes) {
    Add(frames_in_, 1);
    Add(bytes_in_, bytes);
  }
  void DropIn() { Add(drops_in_, 1); }
  void FrameOut(uint64_t bytes) {
    Add(frames_out_, 1);
    Add(bytes_out_, bytes);
  }
  void DropOut() { Add(drops_out_, 1); }
  void ReadError() { Add(read_errors_, 1); }

  InterfaceCounters Snapshot() const {
    return InterfaceCounters{.frames_in = Get(frames_in_),
                             .bytes_in = Get(bytes_in_),
                             .drops_in = Get(drops_in_),
                             .frames_out = Get(frames_out_),
                             .bytes_out = Get(bytes_out_),
                             .drops_out = Get(drops_out_),
                             .read_errors = Get(read_errors_)};
  }

 private:
  static void Add(std::atomic<uint64_t>& counter, uint64_t n) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  static uint64_t Get(const std::atomic<uint64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
  }

  std::atomic<uint64_t> frames_in_{0};
  std::atomic<uint64_t> bytes_in_{0};
  std::atomic<uint64_t> drops_in_{0};
  std::atomic<uint64_t> frames_out_{0};
  std::atomic<uint64_t> bytes_out_{0};
  std::atomic<uint64_t> drops_out_{0};
  std::atomic<uint64_t> read_errors_{0};
};

}  // namespace ipnfs

#endif  // IPNFS_TAP_LINK_COUNTERS_H_
