// Integration tests of configuration and introspection through extended attributes: getfattr
// lists every setting; each setting accepts its valid values and refuses invalid ones (EINVAL,
// nothing changed); unknown and read-only names; directory defaults; and user.ipn.stats and
// user.ipn.ports after known traffic.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/background_process.h"
#include "tests/features/feature_support.h"
#include "tests/mounted_test.h"
#include "tests/port_io.h"
#include "tests/run_as.h"
#include "tests/wait_until.h"

namespace ipnfs::tests {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

class AttributesTest : public MountedTest {
 protected:
  // Creates network `name` (mknod: no port joins) and fails the test if it cannot.
  void MakeNetwork(const std::string& name) {
    ASSERT_EQ(::mknod(PathOf(name).c_str(), S_IFREG | 0666, 0), 0)
        << name << ": " << std::strerror(errno);
  }
  std::string Value(const std::string& name, const std::string& attribute) {
    return GetXattr(PathOf(name), "user.ipn." + attribute).value;
  }
  void Set(const std::string& name, const std::string& attribute, const std::string& value) {
    ASSERT_EQ(SetXattr(PathOf(name), "user.ipn." + attribute, value), 0)
        << "setting " << attribute << "=" << value << " on " << name;
  }
};

TEST_F(AttributesTest, GetfattrDumpShowsEverySettingWithItsDefault) {
  MakeNetwork("net");
  CommandResult result = Shell("getfattr -d -m - net | grep -v -e '^user.ipn.stats=' -e '^#'");
  EXPECT_EQ(result.out,
            "user.ipn.ageing=\"300\"\nuser.ipn.flow=\"drop\"\nuser.ipn.linktype=\"ethernet\"\n"
            "user.ipn.macs=\"4096\"\nuser.ipn.maxports=\"0\"\nuser.ipn.mtu=\"65536\"\n"
            "user.ipn.policy=\"hub\"\nuser.ipn.ports=\"\"\nuser.ipn.qlen=\"256\"\n"
            "user.ipn.stall_ms=\"1000\"\n\n")
      << result;
  EXPECT_EQ(Shell("getfattr -d -m - net | grep -c '^user.ipn.stats=\"ports 0'").out, "1\n");
}

// One setting, its valid values (each read back as written) and invalid ones.
struct SettingCase {
  std::string name;
  std::vector<std::string> valid;  // At least two; the last is set before the invalid ones.
  std::vector<std::string> invalid;
};

void PrintTo(const SettingCase& setting, std::ostream* os) { *os << setting.name; }

class SettingTest : public AttributesTest, public ::testing::WithParamInterface<SettingCase> {};

TEST_P(SettingTest, AcceptsEveryValidValueAndShowsIt) {
  MakeNetwork("net");
  for (const std::string& value : GetParam().valid) {
    EXPECT_EQ(SetXattr(PathOf("net"), "user.ipn." + GetParam().name, value), 0) << value;
    EXPECT_EQ(Value("net", GetParam().name), value);
  }
}

TEST_P(SettingTest, RefusesEveryInvalidValueWithEinvalAndKeepsTheOldValue) {
  MakeNetwork("net");
  const std::string kept = GetParam().valid.back();
  Set("net", GetParam().name, kept);
  for (const std::string& value : GetParam().invalid) {
    EXPECT_EQ(SetXattr(PathOf("net"), "user.ipn." + GetParam().name, value), EINVAL)
        << "'" << value << "'";
    EXPECT_EQ(Value("net", GetParam().name), kept) << "after '" << value << "'";
  }
}

TEST_P(SettingTest, RefusesEveryInvalidValueAsADirectoryDefault) {
  ASSERT_EQ(::mkdir(PathOf("lab").c_str(), 0755), 0);
  for (const std::string& value : GetParam().invalid) {
    EXPECT_EQ(SetXattr(PathOf("lab"), "user.ipn." + GetParam().name, value), EINVAL)
        << "'" << value << "'";
  }
  EXPECT_EQ(GetXattr(PathOf("lab"), "user.ipn." + GetParam().name).error, ENODATA);
}

INSTANTIATE_TEST_SUITE_P(
    EverySetting, SettingTest,
    ::testing::Values(
        SettingCase{"policy", {"switch", "anycast", "hub"}, {"", "bridge", "HUB", "hub switch"}},
        SettingCase{"mtu", {"1", "1048576", "1500"}, {"0", "1048577", "-1", "abc", "1.5", ""}},
        SettingCase{"qlen", {"1", "65536", "64"}, {"0", "65537", "-3", "x", ""}},
        SettingCase{"flow", {"block", "drop"}, {"lossless", "Block", ""}},
        SettingCase{"stall_ms", {"0", "86400000", "300"}, {"86400001", "-1", "1s", ""}},
        SettingCase{"maxports", {"0", "1000", "2"}, {"-1", "unlimited", "1.0", ""}},
        SettingCase{"ageing", {"1", "3600", "60"}, {"-1", "5m", ""}},
        SettingCase{"macs", {"1", "100000", "16"}, {"-1", "lots", ""}},
        SettingCase{"linktype", {"user0", "ethernet"}, {"ppp", "user1", ""}}),
    [](const ::testing::TestParamInfo<SettingCase>& info) { return info.param.name; });

TEST_F(AttributesTest, AnOpenBeyondMaxportsFailsWithEusers) {
  MakeNetwork("net");
  Set("net", "maxports", "2");
  Fd first = Open(PathOf("net"), O_RDWR);
  Fd second = Open(PathOf("net"), O_RDONLY);
  ASSERT_TRUE(first.valid() && second.valid()) << std::strerror(errno);
  Fd third = Open(PathOf("net"), O_WRONLY);
  EXPECT_FALSE(third.valid());
  EXPECT_EQ(errno, EUSERS);
  second.reset();
  EXPECT_TRUE(Open(PathOf("net"), O_WRONLY).valid())
      << "once a port left: " << std::strerror(errno);
}

TEST_F(AttributesTest, UnknownIpnNameIsNotSupportedToSetAndHasNoDataToGet) {
  MakeNetwork("net");
  EXPECT_EQ(SetXattr(PathOf("net"), "user.ipn.bogus", "1"), ENOTSUP);
  EXPECT_EQ(GetXattr(PathOf("net"), "user.ipn.bogus").error, ENODATA);
}

TEST_F(AttributesTest, OtherNamespacesAreNotSupportedToSetAndHaveNoDataToGet) {
  MakeNetwork("net");
  for (const std::string name : {"user.comment", "trusted.ipn.mtu"}) {
    EXPECT_EQ(SetXattr(PathOf("net"), name, "1"), ENOTSUP) << name;
    EXPECT_EQ(GetXattr(PathOf("net"), name).error, ENODATA) << name;
  }
}

TEST_F(AttributesTest, ReadOnlyAttributesCannotBeSet) {
  MakeNetwork("net");
  MakeNetwork("sw");
  Set("sw", "policy", "switch");
  EXPECT_EQ(SetXattr(PathOf("net"), "user.ipn.stats", "ports 9\n"), EPERM);
  EXPECT_EQ(SetXattr(PathOf("net"), "user.ipn.ports", ""), EPERM);
  EXPECT_EQ(SetXattr(PathOf("sw"), "user.ipn.mactable", ""), EPERM);
  EXPECT_EQ(SetXattr(daemon().path(), "user.ipn.policies", "hub"), EPERM);
  EXPECT_EQ(Value("net", "stats").substr(0, 8), "ports 0\n");
}

TEST_F(AttributesTest, DirectoryDefaultsApplyToNetworksCreatedInItLater) {
  ASSERT_EQ(::mkdir(PathOf("lab").c_str(), 0755), 0);
  Set("lab", "qlen", "64");
  Set("lab", "policy", "switch");
  MakeNetwork("lab/net");
  EXPECT_EQ(Value("lab/net", "qlen"), "64");
  EXPECT_EQ(Value("lab/net", "policy"), "switch");
  EXPECT_EQ(Value("lab/net", "mtu"), "65536");
}

TEST_F(AttributesTest, NearestDirectoryDefaultWins) {
  ASSERT_EQ(::mkdir(PathOf("lab").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(PathOf("lab/sub").c_str(), 0755), 0);
  Set("lab", "qlen", "64");
  Set("lab", "mtu", "9000");
  Set("lab/sub", "qlen", "32");
  MakeNetwork("lab/sub/net");
  EXPECT_EQ(Value("lab/sub/net", "qlen"), "32");
  EXPECT_EQ(Value("lab/sub/net", "mtu"), "9000");
}

TEST_F(AttributesTest, NetworksCreatedBeforeADefaultKeepTheirSettings) {
  ASSERT_EQ(::mkdir(PathOf("lab").c_str(), 0755), 0);
  MakeNetwork("lab/old");
  Set("lab", "qlen", "64");
  EXPECT_EQ(Value("lab/old", "qlen"), "256");
}

TEST_F(AttributesTest, GetfattrOnADirectoryShowsTheDefaultsSetThere) {
  ASSERT_EQ(::mkdir(PathOf("lab").c_str(), 0755), 0);
  Set("lab", "qlen", "64");
  Set("lab", "flow", "block");
  CommandResult result = Shell("getfattr -d -m - lab");
  EXPECT_EQ(result.out, "# file: lab\nuser.ipn.flow=\"block\"\nuser.ipn.qlen=\"64\"\n\n") << result;
}

TEST_F(AttributesTest, RemovingANetworkSettingReturnsTheValueANewNetworkWouldInherit) {
  ASSERT_EQ(::mkdir(PathOf("lab").c_str(), 0755), 0);
  MakeNetwork("lab/net");
  Set("lab", "qlen", "99");
  Set("lab/net", "qlen", "10");
  CommandResult result = Shell("setfattr -x user.ipn.qlen lab/net");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(Value("lab/net", "qlen"), "99");
  MakeNetwork("net");
  Set("net", "mtu", "1500");
  EXPECT_EQ(RemoveXattr(PathOf("net"), "user.ipn.mtu"), 0);
  EXPECT_EQ(Value("net", "mtu"), "65536");
}

TEST_F(AttributesTest, StatsCountEveryPacketAndByteSentAndReceived) {
  MakeNetwork("net");
  Fd writer = Open(PathOf("net"), O_WRONLY);
  Fd first = Open(PathOf("net"), O_RDONLY);
  Fd second = Open(PathOf("net"), O_RDONLY);
  const std::string packet(100, 'p');
  for (int i = 0; i < 10; ++i) ASSERT_THAT(Send(writer.get(), packet), Wrote(100));
  for (int i = 0; i < 10; ++i) {
    ASSERT_THAT(ReadNow(first.get()), IsPacket(packet));
    ASSERT_THAT(ReadNow(second.get()), IsPacket(packet));
  }
  EXPECT_THAT(
      StatsOf(PathOf("net")),
      ElementsAre(Pair("bad_frames", 0), Pair("bytes_received", 2000), Pair("bytes_sent", 1000),
                  Pair("connections_refused", 0), Pair("drops_no_send", 0),
                  Pair("drops_queue_full", 0), Pair("drops_too_big", 0), Pair("drops_truncated", 0),
                  Pair("packets_received", 20), Pair("packets_sent", 10), Pair("ports", 3)));
}

TEST_F(AttributesTest, ShortReadReturnsTheFirstBytesAndCountsATruncatedDrop) {
  MakeNetwork("net");
  Fd writer = Open(PathOf("net"), O_WRONLY);
  Fd reader = Open(PathOf("net"), O_RDONLY);
  const std::string packet = std::string(10, 'a') + std::string(90, 'b');
  ASSERT_THAT(Send(writer.get(), packet), Wrote(100));
  EXPECT_THAT(ReadNow(reader.get(), 10), IsPacket(std::string(10, 'a')));
  EXPECT_EQ(StatsOf(PathOf("net"))["drops_truncated"], 1);
  EXPECT_THAT(ReadNow(reader.get()), FailsWith(EAGAIN)) << "the rest was not discarded";
}

TEST_F(AttributesTest, MtuChangeAppliesToPortsAlreadyJoined) {
  MakeNetwork("net");
  Fd writer = Open(PathOf("net"), O_WRONLY);
  Fd reader = Open(PathOf("net"), O_RDONLY);
  ASSERT_THAT(Send(writer.get(), std::string(200, 'x')), Wrote(200));
  ASSERT_THAT(ReadNow(reader.get()), IsPacket(std::string(200, 'x')));
  Set("net", "mtu", "100");
  EXPECT_THAT(Send(writer.get(), std::string(101, 'y')), FailsWith(EMSGSIZE));
  EXPECT_THAT(ReadNow(reader.get()), FailsWith(EAGAIN)) << "the refused packet was sent";
  EXPECT_EQ(StatsOf(PathOf("net"))["drops_too_big"], 1);
  EXPECT_THAT(Send(writer.get(), std::string(100, 'z')), Wrote(100));
  EXPECT_THAT(ReadNow(reader.get()), IsPacket(std::string(100, 'z')));
}

TEST_F(AttributesTest, QlenChangeAppliesToPortsAlreadyJoined) {
  MakeNetwork("net");
  Fd writer = Open(PathOf("net"), O_WRONLY);
  Fd reader = Open(PathOf("net"), O_RDONLY);
  Set("net", "qlen", "2");
  for (int i = 0; i < 5; ++i) ASSERT_THAT(Send(writer.get(), absl::StrCat("packet ", i)), Wrote(8));
  EXPECT_THAT(ReadNow(reader.get()), IsPacket("packet 0"));
  EXPECT_THAT(ReadNow(reader.get()), IsPacket("packet 1"));
  EXPECT_THAT(ReadNow(reader.get()), FailsWith(EAGAIN));
  EXPECT_EQ(StatsOf(PathOf("net"))["drops_queue_full"], 3);
}

TEST_F(AttributesTest, FullQueueCountsQueueFullDropsForThatReceiverOnly) {
  MakeNetwork("net");
  Set("net", "qlen", "2");
  JoinedPort writer = JoinPort(PathOf("net"), O_WRONLY);
  JoinedPort slow = JoinPort(PathOf("net"), O_RDONLY);
  JoinedPort fast = JoinPort(PathOf("net"), O_RDONLY);
  for (int i = 0; i < 5; ++i) {
    ASSERT_THAT(Send(writer.fd.get(), absl::StrCat("packet ", i)), Wrote(8));
    ASSERT_THAT(ReadNow(fast.fd.get()), IsPacket(absl::StrCat("packet ", i)));
  }
  EXPECT_EQ(StatsOf(PathOf("net"))["drops_queue_full"], 3);
  std::optional<PortLine> slow_line = PortLineOf(PathOf("net"), slow.id);
  std::optional<PortLine> fast_line = PortLineOf(PathOf("net"), fast.id);
  ASSERT_TRUE(slow_line.has_value() && fast_line.has_value());
  EXPECT_EQ((*slow_line)["queued"], "2");
  EXPECT_EQ((*slow_line)["dropped"], "3");
  EXPECT_EQ((*fast_line)["dropped"], "0");
  EXPECT_THAT(ReadNow(slow.fd.get()), IsPacket("packet 0")) << "the oldest packets are kept";
}

TEST_F(AttributesTest, PortsLinesShowEachPortsModeAndCounters) {
  MakeNetwork("net");
  JoinedPort writer = JoinPort(PathOf("net"), O_WRONLY);
  JoinedPort reader = JoinPort(PathOf("net"), O_RDONLY);
  JoinedPort both = JoinPort(PathOf("net"), O_RDWR);
  for (int i = 0; i < 3; ++i) ASSERT_THAT(Send(writer.fd.get(), "from w"), Wrote(6));
  for (int i = 0; i < 2; ++i) ASSERT_THAT(Send(both.fd.get(), "from rw"), Wrote(7));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(ReadNow(reader.fd.get()).error == 0);
  for (int i = 0; i < 3; ++i) ASSERT_THAT(ReadNow(both.fd.get()), IsPacket("from w"));

  const std::string prefix =
      absl::StrCat(" pid=", ::getpid(), " uid=0 comm=", OwnCommandName(), " mode=");
  const std::vector<std::string> expected = {
      absl::StrCat("port=", writer.id, prefix, "w in=0 out=3 queued=0 dropped=0"),
      absl::StrCat("port=", reader.id, prefix, "r in=5 out=0 queued=0 dropped=0"),
      absl::StrCat("port=", both.id, prefix, "rw in=3 out=2 queued=0 dropped=0")};
  std::vector<std::string> lines =
      absl::StrSplit(GetXattr(PathOf("net"), "user.ipn.ports").value, '\n', absl::SkipEmpty());
  EXPECT_THAT(lines, ::testing::UnorderedElementsAreArray(expected));
}

TEST_F(AttributesTest, PortsLinesNameTheProcessAndUserThatJoined) {
  MakeNetwork("net");
  ASSERT_EQ(::chmod(PathOf("net").c_str(), 0666), 0);
  BackgroundProcess nobody(Nobody().Command({"/bin/sh", "-c", "exec 3<net && exec sleep 30"}),
                           daemon().path());
  ASSERT_TRUE(WaitUntil([&] { return PortsOf(PathOf("net")).size() == 1; })) << nobody.Stderr();
  PortLine line = PortsOf(PathOf("net"))[0];
  EXPECT_EQ(line["pid"], std::to_string(nobody.pid()));
  EXPECT_EQ(line["uid"], "65534");
  EXPECT_EQ(line["comm"], "sh");
  EXPECT_EQ(line["mode"], "r");
  nobody.Kill();
  EXPECT_TRUE(WaitUntil([&] { return PortsOf(PathOf("net")).empty(); }))
      << "the port did not leave when its process died";
}

}  // namespace
}  // namespace ipnfs::tests
