// Integration tests of /.events: shell tools (head, grep) started before the actions read one
// line per event in the documented format; a reader sees only events about nodes it may read;
// O_NONBLOCK works.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/background_process.h"
#include "tests/features/feature_support.h"
#include "tests/mounted_test.h"
#include "tests/port_io.h"
#include "tests/run_as.h"

namespace ipnfs::tests {
namespace {

using ::testing::ElementsAre;
using ::testing::MatchesRegex;

// An event line split into its time and the rest ("KIND PATH DETAILS").
struct EventLine {
  std::string time;
  std::string event;
};

std::vector<EventLine> ParseEvents(const std::string& text) {
  std::vector<EventLine> events;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> parts = absl::StrSplit(line, absl::MaxSplits(' ', 1));
    events.push_back({parts.first, parts.second});
  }
  return events;
}

std::vector<std::string> Kinds(const std::vector<EventLine>& events) {
  std::vector<std::string> kinds;
  for (const EventLine& line : events) kinds.push_back(line.event);
  return kinds;
}

class EventsTest : public MountedTest {
 protected:
  // Starts `argv` in the mount and waits until it has /.events open.
  std::unique_ptr<BackgroundProcess> StartReader(const std::vector<std::string>& argv) {
    auto reader = std::make_unique<BackgroundProcess>(argv, daemon().path());
    EXPECT_TRUE(WaitUntilOpened(reader->pid(), PathOf(".events"), absl::Seconds(5)))
        << "the reader did not open .events: " << reader->Stderr();
    return reader;
  }

  // Waits up to 10 s for `reader` to exit 0 and returns what it printed.
  std::string OutputOf(BackgroundProcess& reader) {
    EXPECT_EQ(reader.WaitForExit(absl::Seconds(10)), std::optional<int>(0))
        << "stdout:\n"
        << reader.Stdout() << "stderr:\n"
        << reader.Stderr();
    return reader.Stdout();
  }
};

TEST_F(EventsTest, HeadShowsEachKindOfEventInTheDocumentedFormat) {
  std::unique_ptr<BackgroundProcess> head = StartReader({"/usr/bin/head", "-n", "10", ".events"});
  const absl::Time start = absl::Now();
  ASSERT_EQ(::mkdir(PathOf("lab").c_str(), 0755), 0);
  ASSERT_EQ(::mknod(PathOf("net0").c_str(), S_IFREG | 0644, 0), 0);
  ASSERT_EQ(::symlink("net0", PathOf("link").c_str()), 0);
  JoinedPort port = JoinPort(PathOf("net0"), O_RDWR);
  ASSERT_TRUE(port.fd.valid());
  ASSERT_EQ(SetXattr(PathOf("net0"), "user.ipn.qlen", "64"), 0);
  ASSERT_EQ(SetXattr(PathOf("net0"), "user.ipn.policy", "switch"), 0);
  ASSERT_EQ(::chmod(PathOf("net0").c_str(), 0600), 0);
  ASSERT_EQ(::rename(PathOf("net0").c_str(), PathOf("net1").c_str()), 0);
  port.fd.reset();
  ASSERT_EQ(::unlink(PathOf("net1").c_str()), 0);

  std::vector<EventLine> events = ParseEvents(OutputOf(*head));
  const std::string who =
      absl::StrCat("port=", port.id, " pid=", ::getpid(), " uid=0 mode=rw comm=", OwnCommandName());
  EXPECT_THAT(
      Kinds(events),
      ElementsAre("create /lab type=directory", "create /net0 type=network",
                  "create /link type=symlink", "join /net0 " + who, "set /net0 user.ipn.qlen=64",
                  "policy /net0 old=hub new=switch", "set /net0 mode=0600 uid=0 gid=0",
                  "rename /net0 to=/net1", "leave /net1 " + who, "remove /net1"));
  for (const EventLine& line : events) {
    EXPECT_THAT(line.time, MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                                        "\\.[0-9]{3}Z"));
    absl::Time when;
    std::string error;
    ASSERT_TRUE(
        absl::ParseTime("%Y-%m-%dT%H:%M:%E3SZ", line.time, absl::UTCTimeZone(), &when, &error))
        << line.time << ": " << error;
    EXPECT_GE(when, start - absl::Milliseconds(1)) << line.time;
    EXPECT_LE(when, absl::Now()) << line.time;
  }
}

TEST_F(EventsTest, EventsAboutNetworksTheReaderCannotReadAreNotShownToIt) {
  std::unique_ptr<BackgroundProcess> head =
      StartReader(Nobody().Command({"/usr/bin/head", "-n", "3", ".events"}));
  ASSERT_EQ(::mknod(PathOf("secret").c_str(), S_IFREG | 0600, 0), 0);
  ASSERT_EQ(SetXattr(PathOf("secret"), "user.ipn.qlen", "5"), 0);
  Fd secret_port = Open(PathOf("secret"), O_RDWR);
  ASSERT_EQ(::mknod(PathOf("public").c_str(), S_IFREG | 0644, 0), 0);
  ASSERT_EQ(SetXattr(PathOf("public"), "user.ipn.qlen", "6"), 0);
  ASSERT_EQ(::mkdir(PathOf("lab").c_str(), 0755), 0);
  EXPECT_THAT(Kinds(ParseEvents(OutputOf(*head))),
              ElementsAre("create /public type=network", "set /public user.ipn.qlen=6",
                          "create /lab type=directory"));
}

TEST_F(EventsTest, NonBlockingReadWithNothingPendingFailsWithEagain) {
  Fd events = Open(PathOf(".events"), O_RDONLY | O_NONBLOCK);
  ASSERT_TRUE(events.valid()) << std::strerror(errno);
  EXPECT_THAT(ReadNow(events.get()), FailsWith(EAGAIN));
  ASSERT_EQ(::mkdir(PathOf("lab").c_str(), 0755), 0);
  IoResult line = Receive(events.get(), absl::Seconds(5));
  ASSERT_EQ(line.error, 0) << std::strerror(line.error);
  EXPECT_THAT(line.bytes, MatchesRegex(".* create /lab type=directory\n"));
  EXPECT_THAT(ReadNow(events.get()), FailsWith(EAGAIN)) << "more than one line per event";
}

TEST_F(EventsTest, EachReadReturnsOneLine) {
  Fd events = Open(PathOf(".events"), O_RDONLY);
  ASSERT_TRUE(events.valid()) << std::strerror(errno);
  ASSERT_EQ(::mkdir(PathOf("a").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(PathOf("b").c_str(), 0755), 0);
  IoResult first = Receive(events.get(), absl::Seconds(5));
  IoResult second = Receive(events.get(), absl::Seconds(5));
  EXPECT_THAT(first.bytes, MatchesRegex("[^\n]* create /a type=directory\n"));
  EXPECT_THAT(second.bytes, MatchesRegex("[^\n]* create /b type=directory\n"));
}

TEST_F(EventsTest, GrepWaitingForAJoinReturnsWhenAPortJoins) {
  std::unique_ptr<BackgroundProcess> grep =
      StartReader({"/usr/bin/grep", "-m1", " join /net0 ", ".events"});
  ASSERT_EQ(::mknod(PathOf("net0").c_str(), S_IFREG | 0644, 0), 0);
  ASSERT_EQ(::mknod(PathOf("other").c_str(), S_IFREG | 0644, 0), 0);
  Fd elsewhere = Open(PathOf("other"), O_RDONLY);
  EXPECT_FALSE(grep->WaitForExit(absl::Milliseconds(200)).has_value())
      << "grep returned before anything joined net0: " << grep->Stdout();
  Fd joined = Open(PathOf("net0"), O_RDONLY);
  ASSERT_TRUE(joined.valid());
  EXPECT_THAT(OutputOf(*grep), MatchesRegex("[^ ]+ join /net0 port=[0-9]+ pid=[0-9]+ uid=0 "
                                            "mode=r comm=[^ ]+\n"));
}

}  // namespace
}  // namespace ipnfs::tests
