#include "tests/sockets/socket_join.h"

#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/features/feature_support.h"
#include "tests/wait_until.h"

namespace ipnfs::tests {
namespace {

std::set<std::string> PortIds(const std::string& network_path) {
  std::set<std::string> ids;
  for (PortLine& line : PortsOf(network_path)) ids.insert(line["port"]);
  return ids;
}

}  // namespace

SocketClient JoinSocket(const std::string& mount, SocketKind kind, absl::string_view network,
                        absl::Duration timeout) {
  const std::string network_path = absl::StrCat(mount, "/", network);
  const std::set<std::string> before = PortIds(network_path);
  SocketClient client = SocketClient::Connect(kind, FacePath(mount, kind, network));
  EXPECT_TRUE(client.valid()) << "connect to " << FacePath(mount, kind, network) << ": "
                              << std::strerror(client.error());
  if (!client.valid()) return client;
  const bool joined = WaitUntil(
      [&] {
        for (const std::string& id : PortIds(network_path)) {
          if (!before.contains(id)) return true;
        }
        return false;
      },
      timeout);
  EXPECT_TRUE(joined) << "the " << NameOf(kind) << " connection to " << network
                      << " never became a port";
  return client;
}

}  // namespace ipnfs::tests
