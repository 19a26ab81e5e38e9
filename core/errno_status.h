// Errors cross the core as absl::Status that carry the exact errno users will see.
//
// ErrnoError() is the one way the core turns an errno into a Status; StatusToErrno() is the one
// way an adapter (FUSE, tap) turns a Status back into an errno. A Status made elsewhere (for
// example by a policy) maps by its canonical code.
#ifndef IPNFS_CORE_ERRNO_STATUS_H_
#define IPNFS_CORE_ERRNO_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ipnfs {

// A non-OK Status for `error_number` (> 0) with a human-readable `message`.
absl::Status ErrnoError(int error_number, absl::string_view message);

// The errno that `status` stands for: the one given to ErrnoError, else one derived from the
// canonical code (InvalidArgument -> EINVAL, NotFound -> ENOENT, ...). 0 for OK.
int StatusToErrno(const absl::Status& status);

}  // namespace ipnfs

#endif  // IPNFS_CORE_ERRNO_STATUS_H_
