#!/usr/bin/env bash
# Builds the switch policy's libFuzzer target (//policies:switch_fuzzer) with Debian's clang 14,
# ASan and UBSan, and runs it for a bounded number of inputs.
# Usage: scripts/fuzz.sh [RUNS] [LIBFUZZER_FLAGS...]   (default RUNS: 100000)
#   e.g. scripts/fuzz.sh 1000000 -max_len=4096
#
# The build uses `--config=fuzz` (.bazelrc) in its own Bazel output base, $IPNFS_FUZZ_OUTPUT_BASE
# (default ~/.cache/ipnfs-fuzz), so the everyday gcc build keeps its cache and its bazel-* links.
# Installs clang and libclang-rt-14-dev first if they are missing (and, through deps.sh, the
# build dependencies). Exits non-zero when the build fails or the fuzzer finds a crash; the
# crashing input is then in $IPNFS_FUZZ_ARTIFACTS (default /tmp/ipnfs-fuzz), and
# `switch_fuzzer <that file>` replays it.
set -euo pipefail

cd "$(dirname "$0")/.."

runs="${1:-100000}"
[[ $# -gt 0 ]] && shift
if ! [[ "$runs" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 [RUNS] [LIBFUZZER_FLAGS...]" >&2
  exit 2
fi

bash scripts/deps.sh build

fuzz_pkgs=(clang libclang-rt-14-dev)
missing=()
for pkg in "${fuzz_pkgs[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]} > 0)); then
  echo "fuzz.sh: installing missing packages: ${missing[*]}" >&2
  if ((EUID == 0)); then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "fuzz.sh: need root to install: ${missing[*]} (run as root, or install sudo)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" ||
    { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y --no-install-recommends \
      "${missing[@]}"; }
fi

output_base="${IPNFS_FUZZ_OUTPUT_BASE:-$HOME/.cache/ipnfs-fuzz}"
artifacts="${IPNFS_FUZZ_ARTIFACTS:-/tmp/ipnfs-fuzz}"
target=//policies:switch_fuzzer
# The server of this output base exits when idle, rather than staying beside the everyday one.
bazel_fuzz=(bazel "--output_base=$output_base" --max_idle_secs=300)

"${bazel_fuzz[@]}" build --config=fuzz "$target"
bin="$("${bazel_fuzz[@]}" info --config=fuzz bazel-bin 2>/dev/null)/policies/switch_fuzzer"

mkdir -p "$artifacts"
echo "fuzz.sh: $bin -runs=$runs $*" >&2
rc=0
"$bin" -runs="$runs" -artifact_prefix="$artifacts/" -print_final_stats=1 "$@" || rc=$?
if ((rc != 0)); then
  echo "fuzz.sh: the fuzzer failed (exit $rc); crashing inputs are in $artifacts/" >&2
fi
exit "$rc"
