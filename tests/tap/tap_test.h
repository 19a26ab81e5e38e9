// TapTest: the fixture of the tap integration tests. Each test runs in a fresh, private network
// namespace (EnterNewNetworkNamespace) entered before its daemon starts, so the daemon creates
// its taps there and the host never sees them; then it is a MountedTest: a fresh daemon mounted
// on a temporary directory, which must still exit cleanly at the end.
//
// "Hosts" are further namespaces (NewNamespace) that live until the end of the test. When the
// test ends, its daemon exits (deleting its taps), its namespaces are killed, and the next test
// leaves the private namespace behind: nothing the test made survives, even when it failed.
#ifndef IPNFS_TESTS_TAP_TAP_TEST_H_
#define IPNFS_TESTS_TAP_TAP_TEST_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "tests/mounted_test.h"
#include "tests/tap/network_namespace.h"

namespace ipnfs::tests {

class TapTest : public MountedTest {
 protected:
  void SetUp() override {
    const absl::Status entered = EnterNewNetworkNamespace();
    ASSERT_TRUE(entered.ok()) << entered;
    MountedTest::SetUp();
  }

  void TearDown() override {
    MountedTest::TearDown();
    hosts_.clear();
  }

  // A new namespace that lives until the end of the test; nullptr (and a failure) when it cannot
  // be made.
  const NetworkNamespace* NewNamespace() {
    absl::StatusOr<std::unique_ptr<NetworkNamespace>> made = NetworkNamespace::Create();
    EXPECT_TRUE(made.ok()) << made.status();
    if (!made.ok()) return nullptr;
    hosts_.push_back(*std::move(made));
    return hosts_.back().get();
  }

  // Creates network `name` (touch) and returns its path.
  std::string NewNetwork(const std::string& name) {
    const CommandResult made = Shell("touch " + name);
    EXPECT_EQ(made.exit_code, 0) << made;
    return PathOf(name);
  }

  std::vector<std::unique_ptr<NetworkNamespace>> hosts_;
};

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_TAP_TAP_TEST_H_
