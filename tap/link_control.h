// Link control: the small kernel calls about network interfaces that the tap backend needs
// (names, flags, capabilities), as plain functions returning Status with the errno users see.
//
// They act on the network namespace of the calling thread. Thread-safe.
#ifndef IPNFS_TAP_LINK_CONTROL_H_
#define IPNFS_TAP_LINK_CONTROL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ipnfs {

// OK when the kernel would accept `name` as an interface name; else EINVAL: empty, over 15 bytes,
// "." or "..", or holding '/', ':', a NUL or white space.
absl::Status ValidateInterfaceName(const std::string& name);

// True when the calling thread has CAP_NET_ADMIN in its effective set.
bool HasNetAdmin();

// The index of interface `name`, or 0 when there is none in this network namespace.
int InterfaceIndex(const std::string& name);

// True while an interface with index `ifindex` exists in this network namespace.
bool InterfaceIndexExists(int ifindex);

// What an existing interface is, for deciding whether it can be grabbed.
struct LinkFacts {
  int ifindex = 0;
  unsigned flags = 0;       // IFF_UP, IFF_LOOPBACK, ...
  unsigned short type = 0;  // ARPHRD_ETHER, ARPHRD_LOOPBACK, ...
};

// The facts about interface `name`. EINVAL when there is no such interface.
absl::StatusOr<LinkFacts> DescribeLink(const std::string& name);

// Sets IFF_UP on interface `name`. EPERM without CAP_NET_ADMIN.
absl::Status SetLinkUp(const std::string& name);

}  // namespace ipnfs

#endif  // IPNFS_TAP_LINK_CONTROL_H_
