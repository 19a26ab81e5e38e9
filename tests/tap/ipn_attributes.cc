#include "tests/tap/ipn_attributes.h"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ipnfs::tests {
namespace {

class ExitsMatcher : public ::testing::MatcherInterface<const CommandResult&> {
 public:
  // `error` 0: exits 0; else exits non-zero with strerror(error) on stderr.
  explicit ExitsMatcher(int error) : error_(error) {}

  bool MatchAndExplain(const CommandResult& result,
                       ::testing::MatchResultListener* listener) const override {
    *listener << "which has " << result;
    if (error_ == 0) return result.exit_code == 0;
    return result.exit_code > 0 && !result.timed_out &&
           absl::StrContains(result.err, std::strerror(error_));
  }
  void DescribeTo(std::ostream* os) const override {
    if (error_ == 0) {
      *os << "exits 0";
    } else {
      *os << "fails with \"" << std::strerror(error_) << "\"";
    }
  }

 private:
  int error_;
};

}  // namespace

CommandResult SetAttribute(const std::string& path, const std::string& name,
                           const std::string& value, const RunAs& as) {
  return RunCommand(as.Command({"/usr/bin/setfattr", "-n", name, "-v", value, path}));
}

CommandResult RemoveAttribute(const std::string& path, const std::string& name, const RunAs& as) {
  return RunCommand(as.Command({"/usr/bin/setfattr", "-x", name, path}));
}

absl::StatusOr<std::string> GetAttribute(const std::string& path, const std::string& name) {
  const CommandResult got = RunCommand({"/usr/bin/getfattr", "--only-values", "-n", name, path});
  if (got.exit_code == 0) return got.out;
  std::ostringstream text;
  text << "getfattr -n " << name << " " << path << ": " << got;
  if (absl::StrContains(got.err, "No such attribute")) return absl::NotFoundError(text.str());
  return absl::InternalError(text.str());
}

std::string AttachedInterfaces(const std::string& path, const std::string& kind) {
  absl::StatusOr<std::string> value = GetAttribute(path, absl::StrCat("user.ipn.", kind));
  if (value.ok()) return *value;
  if (absl::IsNotFound(value.status())) return "";
  return absl::StrCat("<error ", value.status().ToString(), ">");
}

std::vector<std::string> PortOwners(const std::string& path) {
  absl::StatusOr<std::string> ports = GetAttribute(path, "user.ipn.ports");
  if (!ports.ok()) return {absl::StrCat("<error ", ports.status().ToString(), ">")};
  std::vector<std::string> owners;
  for (absl::string_view line : absl::StrSplit(*ports, '\n', absl::SkipEmpty())) {
    for (absl::string_view field : absl::StrSplit(line, ' ')) {
      if (absl::ConsumePrefix(&field, "comm=")) owners.emplace_back(field);
    }
  }
  std::sort(owners.begin(), owners.end());
  return owners;
}

::testing::Matcher<const CommandResult&> Succeeds() {
  return ::testing::MakeMatcher(new ExitsMatcher(0));
}

::testing::Matcher<const CommandResult&> FailsWithErrno(int error) {
  return ::testing::MakeMatcher(new ExitsMatcher(error));
}

}  // namespace ipnfs::tests
