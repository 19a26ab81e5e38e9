#!/usr/bin/env bash
# Builds ipnfs and runs it in the foreground on a mount point.
# Usage: scripts/run.sh [MOUNTPOINT] [IPNFS_FLAGS...]   (default mount point: /ipn)
# If the first argument starts with '-', all arguments are flags and /ipn is used.
set -euo pipefail

cd "$(dirname "$0")/.."

mountpoint=/ipn
if (($# > 0)) && [[ "$1" != -* ]]; then
  mountpoint="$1"
  shift
fi

bash scripts/deps.sh build
bazel build -c opt //fs:ipnfs

mkdir -p "$mountpoint"

cat >&2 <<MSG

ipnfs is mounted on $mountpoint. Try, in two shells:
  cat $mountpoint/chat
  echo hi > $mountpoint/chat
(the first write, echo hi > $mountpoint/chat, creates the network "chat")
Ctrl-C unmounts.

MSG

exec bazel-bin/fs/ipnfs --foreground "$mountpoint" "$@"
