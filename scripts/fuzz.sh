#!/usr/bin/env bash
# Builds a libFuzzer target with Debian's clang 14, ASan and UBSan, and runs it for a bounded
# number of inputs: the switch policy's (//policies:switch_fuzzer, the default) or the stream
# framing's (//sock:stream_deframer_fuzzer).
# Usage: scripts/fuzz.sh [RUNS] [TARGET] [LIBFUZZER_FLAGS...]   (default RUNS: 100000)
#   TARGET: a Bazel label, or its name alone: switch_fuzzer, stream_deframer_fuzzer.
#   e.g. scripts/fuzz.sh 1000000 -max_len=4096
#        scripts/fuzz.sh 50000 stream_deframer_fuzzer
#
# The build uses `--config=fuzz` (.bazelrc) in its own Bazel output base, $IPNFS_FUZZ_OUTPUT_BASE
# (default ~/.cache/ipnfs-fuzz), so the everyday gcc build keeps its cache and its bazel-* links.
# Installs clang and libclang-rt-14-dev first if they are missing (and, through deps.sh, the
# build dependencies). Exits non-zero when the build fails or the fuzzer finds a crash; the
# crashing input is then in $IPNFS_FUZZ_ARTIFACTS (default /tmp/ipnfs-fuzz), and
# `<fuzzer binary> <that file>` replays it.
set -euo pipefail

cd "$(dirname "$0")/.."

runs="${1:-100000}"
[[ $# -gt 0 ]] && shift
if ! [[ "$runs" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 [RUNS] [TARGET] [LIBFUZZER_FLAGS...]" >&2
  exit 2
fi
target=//policies:switch_fuzzer
if [[ $# -gt 0 && "$1" != -* ]]; then
  case "$1" in
    //*:*) target="$1" ;;
    switch_fuzzer) target=//policies:switch_fuzzer ;;
    stream_deframer_fuzzer) target=//sock:stream_deframer_fuzzer ;;
    *)
      echo "fuzz.sh: unknown target $1 (switch_fuzzer, stream_deframer_fuzzer or a label)" >&2
      exit 2
      ;;
  esac
  shift
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
# The server of this output base exits when idle, rather than staying beside the everyday one.
bazel_fuzz=(bazel "--output_base=$output_base" --max_idle_secs=300)

"${bazel_fuzz[@]}" build --config=fuzz "$target"
package="${target#//}"
bin="$("${bazel_fuzz[@]}" info --config=fuzz bazel-bin 2>/dev/null)/${package%%:*}/${target##*:}"

mkdir -p "$artifacts"
echo "fuzz.sh: $bin -runs=$runs $*" >&2
rc=0
"$bin" -runs="$runs" -artifact_prefix="$artifacts/" -print_final_stats=1 "$@" || rc=$?
if ((rc != 0)); then
  echo "fuzz.sh: the fuzzer failed (exit $rc); crashing inputs are in $artifacts/" >&2
fi
exit "$rc"
