// Integration tests of delivery policies through the mount: a learning Ethernet switch (frames
// built by hand, written by ports of this process), anycast as a work queue (from C++ and from a
// shell pipeline), a live change of policy, and the list of policies on the mount's root.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/frame_builder.h"
#include "tests/features/feature_support.h"
#include "tests/mounted_test.h"
#include "tests/port_io.h"

namespace ipnfs::tests {
namespace {

using ::testing::MatchesRegex;

const MacAddress kMacA = TestMac(0x0a);
const MacAddress kMacB = TestMac(0x0b);
const MacAddress kMacC = TestMac(0x0c);

class PoliciesTest : public MountedTest {
 protected:
  // Creates network `name` with `policy` (mknod: no port joins).
  void MakeNetwork(const std::string& name, const std::string& policy) {
    ASSERT_EQ(::mknod(PathOf(name).c_str(), S_IFREG | 0666, 0), 0);
    ASSERT_EQ(SetXattr(PathOf(name), "user.ipn.policy", policy), 0) << policy;
  }

  // Three read-write ports A, B and C of `name`.
  void JoinThree(const std::string& name) {
    a_ = JoinPort(PathOf(name), O_RDWR);
    b_ = JoinPort(PathOf(name), O_RDWR);
    c_ = JoinPort(PathOf(name), O_RDWR);
    ASSERT_TRUE(a_.fd.valid() && b_.fd.valid() && c_.fd.valid()) << std::strerror(errno);
    ASSERT_FALSE(a_.id.empty() || b_.id.empty() || c_.id.empty());
  }

  // A broadcasts, then B broadcasts; every other port receives each broadcast.
  void LearningExchange() {
    const std::string from_a = FrameBuilder().From(kMacA).PayloadText("hello from A").BuildString();
    const std::string from_b = FrameBuilder().From(kMacB).PayloadText("hello from B").BuildString();
    ASSERT_THAT(Send(a_.fd.get(), from_a), Wrote(from_a.size()));
    ASSERT_THAT(ReadNow(b_.fd.get()), IsPacket(from_a));
    ASSERT_THAT(ReadNow(c_.fd.get()), IsPacket(from_a));
    ASSERT_THAT(Send(b_.fd.get(), from_b), Wrote(from_b.size()));
    ASSERT_THAT(ReadNow(a_.fd.get()), IsPacket(from_b));
    ASSERT_THAT(ReadNow(c_.fd.get()), IsPacket(from_b));
  }

  JoinedPort a_, b_, c_;
};

TEST_F(PoliciesTest, SwitchDeliversKnownUnicastOnlyToItsDestination) {
  MakeNetwork("sw", "switch");
  JoinThree("sw");
  LearningExchange();
  const std::string a_to_b =
      FrameBuilder().To(kMacB).From(kMacA).PayloadText("for B only").BuildString();
  const std::string b_to_a =
      FrameBuilder().To(kMacA).From(kMacB).PayloadText("for A only").BuildString();
  ASSERT_THAT(Send(a_.fd.get(), a_to_b), Wrote(a_to_b.size()));
  ASSERT_THAT(Send(b_.fd.get(), b_to_a), Wrote(b_to_a.size()));
  EXPECT_THAT(ReadNow(b_.fd.get()), IsPacket(a_to_b));
  EXPECT_THAT(ReadNow(a_.fd.get()), IsPacket(b_to_a));
  EXPECT_THAT(ReadNow(c_.fd.get()), FailsWith(EAGAIN));
  EXPECT_THAT(ReadNow(a_.fd.get()), FailsWith(EAGAIN));
  EXPECT_THAT(ReadNow(b_.fd.get()), FailsWith(EAGAIN));
}

TEST_F(PoliciesTest, SwitchFloodsUnicastToAnUnknownDestination) {
  MakeNetwork("sw", "switch");
  JoinThree("sw");
  LearningExchange();
  const std::string to_unknown =
      FrameBuilder().To(TestMac(0x99)).From(kMacA).PayloadText("anyone?").BuildString();
  ASSERT_THAT(Send(a_.fd.get(), to_unknown), Wrote(to_unknown.size()));
  EXPECT_THAT(ReadNow(b_.fd.get()), IsPacket(to_unknown));
  EXPECT_THAT(ReadNow(c_.fd.get()), IsPacket(to_unknown));
  EXPECT_THAT(ReadNow(a_.fd.get()), FailsWith(EAGAIN)) << "flooded back to its sender";
}

TEST_F(PoliciesTest, SwitchRefusesAWriteShorterThanAnEthernetHeader) {
  MakeNetwork("sw", "switch");
  JoinThree("sw");
  const std::string header = FrameBuilder().From(kMacA).PayloadText("").BuildString();
  EXPECT_THAT(Send(a_.fd.get(), header.substr(0, 13)), FailsWith(EINVAL));
  EXPECT_THAT(ReadNow(b_.fd.get()), FailsWith(EAGAIN)) << "the refused frame was sent";
  EXPECT_THAT(Send(a_.fd.get(), header), Wrote(14)) << "a bare 14-byte header is a frame";
  EXPECT_THAT(ReadNow(b_.fd.get()), IsPacket(header));
}

TEST_F(PoliciesTest, MacTableShowsTheLearnedEntriesSorted) {
  MakeNetwork("sw", "switch");
  JoinThree("sw");
  const std::string from_c = FrameBuilder().From(kMacC).PayloadText("hello from C").BuildString();
  ASSERT_THAT(Send(c_.fd.get(), from_c), Wrote(from_c.size()));
  ASSERT_THAT(ReadNow(a_.fd.get()), IsPacket(from_c));
  ASSERT_THAT(ReadNow(b_.fd.get()), IsPacket(from_c));
  LearningExchange();
  std::vector<std::string> lines =
      absl::StrSplit(GetXattr(PathOf("sw"), "user.ipn.mactable").value, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], MatchesRegex(absl::StrCat(kMacA.ToString(), " 0 ", a_.id, " [0-9]+")));
  EXPECT_THAT(lines[1], MatchesRegex(absl::StrCat(kMacB.ToString(), " 0 ", b_.id, " [0-9]+")));
  EXPECT_THAT(lines[2], MatchesRegex(absl::StrCat(kMacC.ToString(), " 0 ", c_.id, " [0-9]+")));
}

TEST_F(PoliciesTest, SwitchLearnsTaggedFramesPerVlanAndKeepsTheirTag) {
  MakeNetwork("sw", "switch");
  JoinThree("sw");
  // 802.1Q: TPID 0x8100, TCI with VLAN 5, then the inner EtherType 0x88b5.
  const std::string tagged = FrameBuilder().From(kMacA).Vlan(5).PayloadText("tagged").BuildString();
  ASSERT_THAT(Send(a_.fd.get(), tagged), Wrote(tagged.size()));
  EXPECT_THAT(ReadNow(b_.fd.get()), IsPacket(tagged));
  EXPECT_THAT(ReadNow(c_.fd.get()), IsPacket(tagged));
  EXPECT_THAT(GetXattr(PathOf("sw"), "user.ipn.mactable").value,
              MatchesRegex(absl::StrCat(kMacA.ToString(), " 5 ", a_.id, " [0-9]+\n")));
  // Known on VLAN 5 only: an untagged frame to A is flooded.
  const std::string untagged =
      FrameBuilder().To(kMacA).From(kMacB).PayloadText("untagged to A").BuildString();
  ASSERT_THAT(Send(b_.fd.get(), untagged), Wrote(untagged.size()));
  EXPECT_THAT(ReadNow(c_.fd.get()), IsPacket(untagged));
}

TEST_F(PoliciesTest, SwitchForgetsTheMacsOfAPortThatLeaves) {
  MakeNetwork("sw", "switch");
  JoinThree("sw");
  LearningExchange();
  b_.fd.reset();
  EXPECT_THAT(GetXattr(PathOf("sw"), "user.ipn.mactable").value,
              MatchesRegex(absl::StrCat(kMacA.ToString(), " 0 ", a_.id, " [0-9]+\n")));
  const std::string to_b =
      FrameBuilder().To(kMacB).From(kMacA).PayloadText("where is B?").BuildString();
  ASSERT_THAT(Send(a_.fd.get(), to_b), Wrote(to_b.size()));
  EXPECT_THAT(ReadNow(c_.fd.get()), IsPacket(to_b)) << "not flooded once B's entry is gone";
}

TEST_F(PoliciesTest, PolicyChangesLiveWithoutLosingPortsOrQueuedPackets) {
  MakeNetwork("net", "hub");
  JoinThree("net");
  const std::string queued_1 =
      FrameBuilder().To(kMacB).From(kMacA).PayloadText("queued under hub 1").BuildString();
  const std::string queued_2 =
      FrameBuilder().To(kMacC).From(kMacA).PayloadText("queued under hub 2").BuildString();
  ASSERT_THAT(Send(a_.fd.get(), queued_1), Wrote(queued_1.size()));
  ASSERT_THAT(Send(a_.fd.get(), queued_2), Wrote(queued_2.size()));

  CommandResult changed = Shell("setfattr -n user.ipn.policy -v switch net");
  ASSERT_EQ(changed.exit_code, 0) << changed;
  EXPECT_EQ(GetXattr(PathOf("net"), "user.ipn.policy").value, "switch");
  EXPECT_EQ(PortsOf(PathOf("net")).size(), 3u);
  for (const JoinedPort* port : {&b_, &c_}) {
    EXPECT_THAT(ReadNow(port->fd.get()), IsPacket(queued_1));
    EXPECT_THAT(ReadNow(port->fd.get()), IsPacket(queued_2));
  }
  // The same ports now switch.
  LearningExchange();
  const std::string a_to_b =
      FrameBuilder().To(kMacB).From(kMacA).PayloadText("switched").BuildString();
  ASSERT_THAT(Send(a_.fd.get(), a_to_b), Wrote(a_to_b.size()));
  EXPECT_THAT(ReadNow(b_.fd.get()), IsPacket(a_to_b));
  EXPECT_THAT(ReadNow(c_.fd.get()), FailsWith(EAGAIN));
}

TEST_F(PoliciesTest, RootListsEveryPolicyWithADescription) {
  CommandResult result = Shell("getfattr --only-values -n user.ipn.policies .");
  ASSERT_EQ(result.exit_code, 0) << result;
  std::map<std::string, std::string> descriptions;
  for (absl::string_view line : absl::StrSplit(result.out, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> entry = absl::StrSplit(line, absl::MaxSplits(' ', 1));
    descriptions[entry.first] = entry.second;
  }
  for (const std::string name : {"hub", "switch", "anycast"}) {
    ASSERT_TRUE(descriptions.contains(name)) << result;
    EXPECT_GE(descriptions[name].size(), 10u) << name << " has no real description";
  }
}

TEST_F(PoliciesTest, AnycastSharesPacketsEvenlyAndDeliversEachExactlyOnce) {
  MakeNetwork("jobs", "anycast");
  Fd producer = Open(PathOf("jobs"), O_WRONLY);
  std::vector<Fd> workers;
  for (int i = 0; i < 3; ++i) workers.push_back(Open(PathOf("jobs"), O_RDONLY));
  for (int job = 0; job < 30; ++job) {
    ASSERT_THAT(Send(producer.get(), absl::StrCat("job ", job)),
                Wrote(absl::StrCat("job ", job).size()));
  }
  std::multiset<std::string> delivered;
  for (Fd& worker : workers) {
    int count = 0;
    for (IoResult result = ReadNow(worker.get()); result.error == 0;
         result = ReadNow(worker.get())) {
      delivered.insert(result.bytes);
      ++count;
    }
    EXPECT_EQ(count, 10) << "worker " << &worker - workers.data();
  }
  std::multiset<std::string> expected;
  for (int job = 0; job < 30; ++job) expected.insert(absl::StrCat("job ", job));
  EXPECT_EQ(delivered, expected);
}

TEST_F(PoliciesTest, AnycastSkipsFullWorkersAndDropsOnlyWhenNoneHasRoom) {
  MakeNetwork("jobs", "anycast");
  ASSERT_EQ(SetXattr(PathOf("jobs"), "user.ipn.qlen", "2"), 0);
  Fd producer = Open(PathOf("jobs"), O_WRONLY);
  Fd busy = Open(PathOf("jobs"), O_RDONLY);
  Fd idle = Open(PathOf("jobs"), O_RDONLY);
  for (int job = 0; job < 5; ++job)
    ASSERT_THAT(Send(producer.get(), absl::StrCat("job ", job)), Wrote(5));
  // Both queues hold two jobs; the fifth found no room anywhere.
  EXPECT_EQ(StatsOf(PathOf("jobs"))["anycast_no_room"], 1);
  std::set<std::string> delivered;
  for (int i = 0; i < 2; ++i) {
    IoResult result = ReadNow(idle.get());
    ASSERT_EQ(result.error, 0);
    delivered.insert(result.bytes);
  }
  // Only the idle worker has room now: it gets both of the next jobs.
  ASSERT_THAT(Send(producer.get(), "job 5"), Wrote(5));
  ASSERT_THAT(Send(producer.get(), "job 6"), Wrote(5));
  EXPECT_THAT(ReadNow(idle.get()), IsPacket("job 5"));
  EXPECT_THAT(ReadNow(idle.get()), IsPacket("job 6"));
  for (int i = 0; i < 2; ++i) {
    IoResult result = ReadNow(busy.get());
    ASSERT_EQ(result.error, 0);
    delivered.insert(result.bytes);
  }
  EXPECT_THAT(ReadNow(busy.get()), FailsWith(EAGAIN));
  EXPECT_EQ(delivered, (std::set<std::string>{"job 0", "job 1", "job 2", "job 3"}));
}

TEST_F(PoliciesTest, AnycastMakesAShellWorkQueue) {
  CommandResult result = Shell(R"sh(
touch jobs && setfattr -n user.ipn.policy -v anycast jobs || exit 1
out=$(mktemp -d)
workers=
for w in 1 2 3; do timeout 20 cat jobs > "$out/$w" 2>/dev/null & workers="$workers $!"; done
waited=0
until [ "$(getfattr --only-values -n user.ipn.ports jobs | grep -c 'mode=r ')" = 3 ]; do
  sleep 0.01; waited=$((waited + 1)); [ $waited -lt 500 ] || { echo "workers did not join"; exit 1; }
done
for i in $(seq 20); do echo $i > jobs; done
waited=0
until [ "$(cat "$out"/* | wc -l)" -ge 20 ]; do
  sleep 0.01; waited=$((waited + 1)); [ $waited -lt 500 ] || break
done
sleep 0.1
kill $workers
echo "jobs: $(cat "$out"/* | sort -n | tr '\n' ' ')"
echo "shares: $(for w in 1 2 3; do wc -l < "$out/$w"; done | sort -n | tr '\n' ' ')"
rm -rf "$out"
)sh");
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out,
            "jobs: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 \nshares: 6 7 7 \n")
      << result;
}

}  // namespace
}  // namespace ipnfs::tests
