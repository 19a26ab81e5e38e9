#include "tap/link_control.h"

#include <linux/capability.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/errno_status.h"
#include "uring/scoped_fd.h"

namespace ipnfs {
namespace {

constexpr size_t kMaxNameBytes = IFNAMSIZ - 1;

// An ifreq naming `name`, which ValidateInterfaceName accepted.
ifreq RequestFor(const std::string& name) {
  ifreq request{};
  std::memcpy(request.ifr_name, name.data(), name.size());
  return request;
}

// A socket for interface ioctls; any family reaches the device layer, AF_INET is always there.
absl::StatusOr<ScopedFd> ControlSocket() {
  ScopedFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoError(errno, absl::StrCat("socket: ", strerror(errno)));
  return fd;
}

}  // namespace

absl::Status ValidateInterfaceName(const std::string& name) {
  if (name.empty()) return ErrnoError(EINVAL, "empty interface name");
  if (name.size() > kMaxNameBytes) {
    return ErrnoError(
        EINVAL, absl::StrCat("interface name \"", name, "\" is over ", kMaxNameBytes, " bytes"));
  }
  if (name == "." || name == "..") return ErrnoError(EINVAL, "invalid interface name");
  for (char c : name) {
    if (c == '/' || c == ':' || c == '\0' || std::isspace(static_cast<unsigned char>(c))) {
      return ErrnoError(
          EINVAL, absl::StrCat("interface name \"", name, "\" holds '/', ':', NUL or white space"));
    }
  }
  return absl::OkStatus();
}

bool HasNetAdmin() {
  __user_cap_header_struct header{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective & CAP_TO_MASK(CAP_NET_ADMIN)) != 0;
}

int InterfaceIndex(const std::string& name) {
  return static_cast<int>(if_nametoindex(name.c_str()));
}

bool InterfaceIndexExists(int ifindex) {
  char name[IF_NAMESIZE];
  return if_indextoname(static_cast<unsigned>(ifindex), name) != nullptr;
}

absl::StatusOr<LinkFacts> DescribeLink(const std::string& name) {
  absl::StatusOr<ScopedFd> control = ControlSocket();
  if (!control.ok()) return control.status();
  LinkFacts facts;
  ifreq request = RequestFor(name);
  if (ioctl(control->get(), SIOCGIFINDEX, &request) != 0) {
    if (errno == ENODEV) return ErrnoError(EINVAL, absl::StrCat("no interface \"", name, "\""));
    return ErrnoError(errno, absl::StrCat("SIOCGIFINDEX ", name, ": ", strerror(errno)));
  }
  facts.ifindex = request.ifr_ifindex;
  if (ioctl(control->get(), SIOCGIFFLAGS, &request) != 0) {
    return ErrnoError(errno, absl::StrCat("SIOCGIFFLAGS ", name, ": ", strerror(errno)));
  }
  facts.flags = static_cast<unsigned short>(request.ifr_flags);
  if (ioctl(control->get(), SIOCGIFHWADDR, &request) != 0) {
    return ErrnoError(errno, absl::StrCat("SIOCGIFHWADDR ", name, ": ", strerror(errno)));
  }
  facts.type = request.ifr_hwaddr.sa_family;
  return facts;
}

absl::Status SetLinkUp(const std::string& name) {
  absl::StatusOr<ScopedFd> control = ControlSocket();
  if (!control.ok()) return control.status();
  ifreq request = RequestFor(name);
  if (ioctl(control->get(), SIOCGIFFLAGS, &request) != 0) {
    return ErrnoError(errno, absl::StrCat("SIOCGIFFLAGS ", name, ": ", strerror(errno)));
  }
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  if (ioctl(control->get(), SIOCSIFFLAGS, &request) != 0) {
    return ErrnoError(errno, absl::StrCat("setting ", name, " up: ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace ipnfs
