#include "tap/link_control.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "core/errno_status.h"

namespace ipnfs {
namespace {

TEST(LinkControl, AcceptsKernelInterfaceNames) {
  for (const std::string name : {"ipn0", "a", "eth1.100", "br-lan_2", "fifteen-bytes-x"}) {
    EXPECT_TRUE(ValidateInterfaceName(name).ok()) << name;
  }
}

TEST(LinkControl, RefusesInvalidNamesWithEinval) {
  for (const std::string& name :
       {std::string(""), std::string("sixteen-bytes-xx"), std::string("a/b"), std::string("a b"),
        std::string("tab\t"), std::string("new\nline"), std::string("a:1"), std::string("."),
        std::string(".."), std::string("nul\0x", 5)}) {
    EXPECT_EQ(StatusToErrno(ValidateInterfaceName(name)), EINVAL) << name;
  }
}

TEST(LinkControl, LoopbackIsDescribedAsLoopback) {
  absl::StatusOr<LinkFacts> lo = DescribeLink("lo");
  ASSERT_TRUE(lo.ok()) << lo.status();
  EXPECT_GT(lo->ifindex, 0);
  EXPECT_EQ(InterfaceIndex("lo"), lo->ifindex);
  EXPECT_TRUE(InterfaceIndexExists(lo->ifindex));
}

TEST(LinkControl, MissingInterfaceIsEinval) {
  EXPECT_EQ(StatusToErrno(DescribeLink("ipnfs-nothere").status()), EINVAL);
  EXPECT_EQ(InterfaceIndex("ipnfs-nothere"), 0);
}

}  // namespace
}  // namespace ipnfs
