// The checks the namespace makes before an operation, as a kernel filesystem makes them: valid
// entry names, and permissions (r: list, receive; w: add entries, send; x: search, manage).
//
// Pure functions over nodes; they change nothing. Call them with the Namespace's lock held, like
// everything that reads a node.
#ifndef IPNFS_CORE_NAMESPACE_PERMISSIONS_H_
#define IPNFS_CORE_NAMESPACE_PERMISSIONS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/namespace_node.h"

namespace ipnfs {

// OK for a valid entry name: not empty, ".", ".." or longer than 255 bytes, and without '/'.
absl::Status CheckEntryName(absl::string_view name);
// ENAMETOOLONG for a name no entry can have (checked before anything else on lookup).
absl::Status CheckNameLength(absl::string_view name);

// True when the caller has every bit of `mask` (kMayRead...) on `attr`.
bool May(const Attributes& attr, const OperationContext& context, int mask);

// EACCES, with `what` as the reason.
absl::Status Denied(absl::string_view what);

// Adding an entry to `dir`: ENOENT once `dir` was removed, EACCES without w and x on it.
absl::Status CheckMayAddEntry(const NamespaceNode& dir, const OperationContext& context);

// Removing (or renaming away) `victim` from `dir`: EACCES without w and x on `dir`, EPERM by the
// sticky-bit rule.
absl::Status CheckMayRemove(const NamespaceNode& dir, const NamespaceNode& victim,
                            const OperationContext& context);

// A rename that replaces `replaced` in `dir` with `node`: EEXIST with RENAME_NOREPLACE in
// `flags`, as removing `replaced` from `dir`, ENOTDIR/EISDIR when only one of them is a directory,
// ENOTEMPTY for a directory with entries.
absl::Status CheckMayReplace(const NamespaceNode& dir, const NamespaceNode& replaced,
                             const NamespaceNode& node, unsigned int flags,
                             const OperationContext& context);

// A setattr on `node`: checks every field, so that a refused request changes nothing. EPERM for
// what only the owner (or root) may change, EACCES without the write access a touch or a
// truncation needs, EISDIR/EINVAL for a size a node cannot have.
absl::Status CheckMaySetAttributes(const NamespaceNode& node, const AttributeChanges& changes,
                                   const OperationContext& context);

// Changing a node's settings or interfaces (its xattrs): x on it; root always may. EACCES else.
absl::Status CheckMayManage(const Attributes& attr, const OperationContext& context);

}  // namespace ipnfs

#endif  // IPNFS_CORE_NAMESPACE_PERMISSIONS_H_
