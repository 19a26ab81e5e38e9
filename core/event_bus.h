// EventBus: what happens in the namespace, as text lines for readers of /ipn/.events.
//
//   2026-11-22T16:00:00.123Z join /lab/net0 port=7 pid=1234 uid=1000 mode=rw comm=qemu-system-x86
//
// Each reader is a port of a private network that only the bus sends to, so reads, O_NONBLOCK,
// poll and interrupts behave exactly as on a network file (one line per read). A reader sees the
// events published after it subscribed, and only those about nodes it may read. Thread-safe; the
// namespace publishes with its lock held (the bus never calls back into it).
#ifndef IPNFS_CORE_EVENT_BUS_H_
#define IPNFS_CORE_EVENT_BUS_H_

#include <sys/types.h>

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/access.h"
#include "core/network.h"

namespace ipnfs {

// Who may see an event: the node it is about.
struct EventSubject {
  mode_t mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

class EventBus {
 public:
  EventBus() = default;
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // A new reader for `who`; lines queue up to `queue` deep (older readers' drops are counted in
  // their port).
  absl::StatusOr<std::unique_ptr<Port>> Subscribe(const Credentials& who, PortOwner owner,
                                                  absl::Time now, size_t queue = 1024);

  // Sends "TIME KIND PATH DETAILS\n" to every reader that may read `subject`.
  void Publish(absl::Time when, absl::string_view kind, absl::string_view path,
               const EventSubject& subject, absl::string_view details);

  // True when somebody reads events (lets publishers skip formatting).
  bool HasReaders() const;

 private:
  struct Reader {
    Credentials who;
    std::shared_ptr<Network> network;  // Private: the reader's port and `sender`.
    std::unique_ptr<Port> sender;
  };

  mutable absl::Mutex mu_;
  std::vector<Reader> readers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ipnfs

#endif  // IPNFS_CORE_EVENT_BUS_H_
