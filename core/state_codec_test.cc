#include "core/state_codec.h"

#include <gtest/gtest.h>

namespace ipnfs {
namespace {

StateEntry Entry(StateEntry::Type type, std::string path) {
  StateEntry entry;
  entry.type = type;
  entry.path = std::move(path);
  entry.mode = 0644;
  entry.uid = 1000;
  entry.gid = 100;
  entry.atime = absl::FromUnixNanos(1'700'000'000'123'456'789);
  entry.mtime = absl::FromUnixNanos(1'700'000'001'000'000'000);
  entry.ctime = absl::FromUnixNanos(1'700'000'002'000'000'001);
  return entry;
}

TEST(StateCodec, RoundTripsEveryKindOfEntry) {
  StateEntry root = Entry(StateEntry::Type::kDirectory, "/");
  root.mode = 01777;
  root.settings = {{"mtu", "1500"}};
  StateEntry net = Entry(StateEntry::Type::kNetwork, "/net0");
  net.settings = {{"policy", "hub"}, {"qlen", "16"}};
  StateEntry link = Entry(StateEntry::Type::kSymlink, "/alias");
  link.target = "net0";
  const std::vector<StateEntry> entries = {root, net, link};
  absl::StatusOr<std::vector<StateEntry>> decoded = DecodeState(EncodeState(entries));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, entries);
}

TEST(StateCodec, NamesWithSpacesNewlinesPercentAndUnicodeSurvive) {
  StateEntry odd = Entry(StateEntry::Type::kNetwork, "/lab net/a\nb%c=d/\xc3\xa9t\xc3\xa9");
  StateEntry link = Entry(StateEntry::Type::kSymlink, "/l");
  link.target = "../x y";
  const std::vector<StateEntry> entries = {odd, link};
  const std::string text = EncodeState(entries);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);  // Header and one line each.
  absl::StatusOr<std::vector<StateEntry>> decoded = DecodeState(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, entries);
}

TEST(StateCodec, AnEmptyValueSurvives) {
  StateEntry dir = Entry(StateEntry::Type::kDirectory, "/d");
  dir.settings = {{"policy", ""}};
  absl::StatusOr<std::vector<StateEntry>> decoded = DecodeState(EncodeState({dir}));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->at(0).settings.at(0).second, "");
}

TEST(StateCodec, RejectsAFileWithoutTheHeader) {
  EXPECT_FALSE(DecodeState("").ok());
  EXPECT_FALSE(DecodeState("hello\n").ok());
}

TEST(StateCodec, RejectsATruncatedFile) {
  std::string text = EncodeState({Entry(StateEntry::Type::kDirectory, "/")});
  text.pop_back();
  EXPECT_FALSE(DecodeState(text).ok());
}

TEST(StateCodec, NamesTheLineOfAMalformedEntry) {
  const std::string good = EncodeState({Entry(StateEntry::Type::kDirectory, "/")});
  for (const char* bad :
       {"fifo /x 644 0 0 1 1 1\n", "net x 644 0 0 1 1 1\n", "net /x 999 0 0 1 1 1\n",
        "net /x 644 a 0 1 1 1\n", "net /x 644 0 0 1 1\n", "net /x 644 0 0 1 1 1 mtu\n",
        "net /x%G1 644 0 0 1 1 1\n", "link /x 777 0 0 1 1 1\n"}) {
    absl::StatusOr<std::vector<StateEntry>> decoded = DecodeState(good + bad);
    ASSERT_FALSE(decoded.ok()) << bad;
    EXPECT_NE(decoded.status().message().find("line 3"), std::string::npos)
        << decoded.status().message();
  }
}

}  // namespace
}  // namespace ipnfs
