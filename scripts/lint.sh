#!/usr/bin/env bash
# Checks the tree's promises that no compiler checks; prints one line per problem and exits 1 if
# there is any. Run by scripts/test.sh (as check:lint); quick, no build needed.
#   - every C/C++ file is formatted as .clang-format says (clang-format 14, Google, 100 columns);
#   - layers: policies/ and core/ include no libfuse or liburing header; the adapters meet only in
#     main: fs/ includes nothing from tap/ but in main.cc, tap/ and uring/ nothing from fs/;
#   - no non-test C/C++ source over 500 lines;
#   - no build artifacts tracked by git.
# Usage: scripts/lint.sh [--fix]   (--fix formats the files in place first)
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang-format >/dev/null 2>&1; then
  bash scripts/deps.sh test >&2 || exit 1
fi

problems=0
problem() {
  echo "lint: $*"
  problems=$((problems + 1))
}

mapfile -t sources < <(git ls-files -- '*.c' '*.cc' '*.h' | grep -v '^third_party/')

if [[ "${1:-}" == --fix ]]; then
  clang-format -i "${sources[@]}"
fi

for f in "${sources[@]}"; do
  [[ -f "$f" ]] || continue
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
    problem "$f: not formatted (scripts/lint.sh --fix, or clang-format -i $f)"
  fi
done

while IFS= read -r hit; do
  problem "$hit: the pure layers include no libfuse or liburing header"
done < <(grep -nE '#include [<"](fuse3?/|fuse_|liburing)' policies/* core/* 2>/dev/null)

while IFS= read -r hit; do
  problem "$hit: fs/ reaches into tap/ or sock/ (adapters meet only in fs/main.cc)"
done < <(grep -nE '#include "(tap|sock)/' fs/*.c fs/*.cc fs/*.h 2>/dev/null | grep -v '^fs/main\.cc:')
while IFS= read -r hit; do
  problem "$hit: tap/, sock/ and uring/ include nothing from fs/"
done < <(grep -nE '#include "fs/' tap/* sock/* uring/* 2>/dev/null)
while IFS= read -r hit; do
  problem "$hit: tap/ and sock/ do not include each other"
done < <(grep -nE '#include "sock/' tap/* 2>/dev/null; grep -nE '#include "tap/' sock/* 2>/dev/null)

for f in "${sources[@]}"; do
  [[ -f "$f" && "$f" != *_test.cc && "$f" != tests/* && "$f" != *fuzzer.cc ]] || continue
  lines=$(wc -l <"$f")
  ((lines <= 500)) || problem "$f: $lines lines (non-test sources stay at 500 at most; split it)"
done

while IFS= read -r f; do
  problem "$f: a build artifact is tracked (git rm --cached it)"
done < <(git ls-files | grep -E '(^|/)(__pycache__/|bazel-)|\.(pyc|o|so|a)$')

if ((problems > 0)); then
  echo "lint: $problems problem(s)"
  exit 1
fi
echo "lint: clean (${#sources[@]} C/C++ files)"
