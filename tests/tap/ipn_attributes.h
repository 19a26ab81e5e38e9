// The user.ipn.* attributes of a network through the shell tools a user has: setfattr and
// getfattr, as root or as another user (RunAs). Errors are what the tools report: the
// message of the errno (setfattr prints "setfattr: PATH: <strerror>"). Thread-safe.
#ifndef IPNFS_TESTS_TAP_IPN_ATTRIBUTES_H_
#define IPNFS_TESTS_TAP_IPN_ATTRIBUTES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "tests/run_as.h"
#include "tests/subprocess.h"

namespace ipnfs::tests {

// `setfattr -n NAME -v VALUE PATH`.
CommandResult SetAttribute(const std::string& path, const std::string& name,
                           const std::string& value, const RunAs& as = {});
// `setfattr -x NAME PATH`.
CommandResult RemoveAttribute(const std::string& path, const std::string& name,
                              const RunAs& as = {});
// `getfattr --only-values -n NAME PATH`: the value; NotFoundError when the network has no such
// attribute (ENODATA, "No such attribute"); another error when getfattr fails otherwise.
absl::StatusOr<std::string> GetAttribute(const std::string& path, const std::string& name);

// user.ipn.tap (or user.ipn.grab with `kind` "grab"): the interfaces attached, "" for none, or
// "<error ...>" when getfattr fails otherwise, so that comparisons fail with a clear message.
std::string AttachedInterfaces(const std::string& path, const std::string& kind = "tap");
// The comm= of every port in user.ipn.ports, sorted.
std::vector<std::string> PortOwners(const std::string& path);

// Matches a command that exited 0.
::testing::Matcher<const CommandResult&> Succeeds();
// Matches a setfattr/getfattr that failed with the message of `error` (an errno value).
::testing::Matcher<const CommandResult&> FailsWithErrno(int error);

}  // namespace ipnfs::tests

#endif  // IPNFS_TESTS_TAP_IPN_ATTRIBUTES_H_
