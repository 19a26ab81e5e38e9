// RunAs: who runs a client command in an integration test: the test's own user (root), or
// another user through setpriv(1), which switches user and groups and then executes the command,
// as an administrator would try a mount as somebody else. The one way tests run things as
// another user. Thread-compatible value type.
#ifndef IPNFS_TESTS_RUN_AS_H_
#define IPNFS_TESTS_RUN_AS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ipnfs::tests {

struct RunAs {
  // The user name; empty: the test's own user, and commands run unchanged.
  std::string user;
  // The primary group.
  std::string group = "nogroup";
  // Supplementary groups as setpriv's --groups takes them ("100,101"); empty: none at all.
  std::string groups;

  // `argv` (an absolute path first) made to run as this user.
  std::vector<std::string> Command(std::vector<std::string> argv) const;
  // A line for /bin/sh that runs `script` with /bin/sh as this user, for scripts that switch
  // users in the middle.
  std::string ShellLine(absl::string_view script) const;
};

// nobody:nogroup without supplementary groups: the other user of the integration tests.
RunAs Nobody();

// Single-quotes `text` for /bin/sh.
std::string ShellQuote(absl::string_view text);

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_RUN_AS_H_
