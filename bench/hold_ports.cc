// hold_ports: joins ipnfs networks and stays joined, for the benchmark's memory figures.
//
// Usage: hold_ports --networks=N --ports=M DIR
// Opens M ports (O_RDWR) on each of N networks DIR/net-0 .. DIR/net-(N-1), creating the networks
// that do not exist, prints "ready", then sleeps until a signal ends it (the kernel closes the
// ports). Raises its descriptor limit as needed. Setup failures exit 1 with a message.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"

ABSL_FLAG(int, networks, 1, "networks to join");
ABSL_FLAG(int, ports, 1000, "ports to open on each network");

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "hold_ports: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

// Makes room for `fds` more descriptors than a process normally uses.
void RaiseDescriptorLimit(rlim_t fds) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) < 0) Die("getrlimit");
  const rlim_t want = fds + 64;
  if (limit.rlim_cur >= want) return;
  limit.rlim_cur = want;
  if (limit.rlim_max < want) limit.rlim_max = want;  // Needs CAP_SYS_RESOURCE.
  if (setrlimit(RLIMIT_NOFILE, &limit) < 0) Die("setrlimit RLIMIT_NOFILE");
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const int networks = absl::GetFlag(FLAGS_networks);
  const int ports = absl::GetFlag(FLAGS_ports);
  if (args.size() != 2 || networks < 1 || ports < 1) {
    std::fprintf(stderr, "usage: hold_ports --networks=N --ports=M DIR\n");
    return 2;
  }
  RaiseDescriptorLimit(static_cast<rlim_t>(networks) * ports);
  std::vector<int> fds;  // Held open until the process ends.
  for (int n = 0; n < networks; ++n) {
    const std::string path = std::string(args[1]) + "/net-" + std::to_string(n);
    for (int p = 0; p < ports; ++p) {
      const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0) Die("open " + path);
      fds.push_back(fd);
    }
  }
  std::printf("ready\n");
  std::fflush(stdout);
  while (true) pause();
}
