#include "tests/run_as.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace ipnfs::tests {

std::vector<std::string> RunAs::Command(std::vector<std::string> argv) const {
  if (user.empty()) return argv;
  std::vector<std::string> wrapped = {
      "/usr/bin/setpriv", absl::StrCat("--reuid=", user), absl::StrCat("--regid=", group),
      groups.empty() ? "--clear-groups" : absl::StrCat("--groups=", groups), "--"};
  wrapped.insert(wrapped.end(), std::make_move_iterator(argv.begin()),
                 std::make_move_iterator(argv.end()));
  return wrapped;
}

std::string RunAs::ShellLine(absl::string_view script) const {
  std::vector<std::string> words;
  for (std::string& word : Command({"/bin/sh", "-c", std::string(script)})) {
    words.push_back(ShellQuote(word));
  }
  return absl::StrJoin(words, " ");
}

RunAs Nobody() {
  RunAs nobody;
  nobody.user = "nobody";
  return nobody;
}

std::string ShellQuote(absl::string_view text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

}  // namespace ipnfs::tests
