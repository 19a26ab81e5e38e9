#!/usr/bin/env bash
# Runs every test (bazel test //...) and counts individual gtest test cases.
# Usage: scripts/test.sh [BAZEL_TEST_ARGS...]   e.g. scripts/test.sh --config=asan
#
# Prints one summary line per test target to stdout, then, as the very last line,
# "N passed, N failed". Exits 0 only if nothing failed and at least one test passed.
#
# Counting, per test target of `bazel query 'tests(//...)'` (manual-tagged excluded):
#   - bazel's status for the target comes from the Build Event Protocol file;
#   - its cases come from bazel-testlogs/<pkg>/<name>/test.xml (kept for cached tests too):
#     passed = tests - failures - errors - disabled - skipped, failed = failures + errors;
#   - a crash makes Bazel write a synthetic test.xml with errors="1": counts 1 failed;
#   - bazel said FAILED/TIMEOUT/... but the XML has no failure (e.g. the binary exited
#     non-zero after gtest wrote its XML, such as an ASan leak report): 1 more failed;
#   - not run (failed to build, NO STATUS) or no test.xml: 1 failed, and any old
#     test.xml left over from an earlier run is ignored.
set -euo pipefail

cd "$(dirname "$0")/.."

bash scripts/deps.sh test

bep="$(mktemp -t ipnfs-bep.XXXXXX.json)"
trap 'rm -f "$bep"' EXIT

bazel_rc=0
# --keep_going: a test target that fails to build does not stop the others from running.
bazel test //... --test_output=errors --keep_going --test_summary=short \
  --build_event_json_file="$bep" "$@" || bazel_rc=$?

# Sums the <testsuite> counts of one gtest/Bazel XML file; prints "tests failed skipped".
# Text inside CDATA sections (logs, failure messages) is skipped.
xml_counts() {
  awk 'BEGIN { RS = "<"; tests = failed = skipped = 0; cdata = 0 }
    function attr(rec, name,    re, v) {
      re = "[ \t\n]" name "=\"[0-9]+\""
      if (!match(rec, re)) return 0
      v = substr(rec, RSTART, RLENGTH); sub(/^[^"]*"/, "", v); sub(/"$/, "", v)
      return v + 0
    }
    cdata { if (index($0, "]]>")) cdata = 0; next }
    /^!\[CDATA\[/ { if (!index($0, "]]>")) cdata = 1; next }
    /^testsuite[ \t\n>]/ {
      tests   += attr($0, "tests")
      failed  += attr($0, "failures") + attr($0, "errors")
      skipped += attr($0, "disabled") + attr($0, "skipped")
    }
    END { print tests, failed, skipped }' "$1"
}

# Bazel's overall status of a target from the BEP file (NO_STATUS if it never ran).
bazel_status() {
  local s
  s="$(grep -F "{\"id\":{\"testSummary\":{\"label\":\"$1\"," "$bep" 2>/dev/null \
       | grep -o '"overallStatus":"[A-Z_]*"' | head -n 1 | cut -d'"' -f4 || true)"
  echo "${s:-NO_STATUS}"
}

query_rc=0
targets="$(bazel query --keep_going \
  "tests(//...) except attr(tags, '\\bmanual\\b', //...)" 2>/dev/null | sort)" || query_rc=$?

total_passed=0
total_failed=0
testlogs="bazel-testlogs"

while read -r label; do
  [[ -n "$label" ]] || continue
  pkg="${label#//}"; pkg="${pkg%%:*}"
  name="${label##*:}"
  dir="$testlogs/${pkg:+$pkg/}$name"
  status="$(bazel_status "$label")"
  passed=0 failed=0 note=""

  # Sharded tests have one test.xml per shard directory.
  xmls=()
  if [[ -f "$dir/test.xml" ]]; then
    xmls=("$dir/test.xml")
  elif [[ -d "$dir" ]]; then
    for f in "$dir"/*/test.xml; do [[ -f "$f" ]] && xmls+=("$f"); done
  fi

  case "$status" in
    PASSED | FLAKY | FAILED | TIMEOUT | INCOMPLETE | REMOTE_FAILURE)
      if ((${#xmls[@]} == 0)); then
        failed=1 note=" (no test.xml)"
      else
        for f in "${xmls[@]}"; do
          read -r t f_ s < <(xml_counts "$f")
          passed=$((passed + t - f_ - s))
          failed=$((failed + f_))
        done
        ((passed >= 0)) || passed=0
        if [[ "$status" != PASSED && "$status" != FLAKY ]] && ((failed == 0)); then
          failed=1 note=" (test binary exited non-zero after its tests passed)"
        fi
        # Bazel's synthetic XML for a binary that died before writing its own.
        crash="$(grep -ho 'exited with error code [0-9]*' "${xmls[@]}" | head -n 1 || true)"
        [[ -z "$crash" ]] || note=" (crashed: $crash; see $dir/test.log)"
      fi
      ;;
    *)
      failed=1 note=" (not run)"
      ;;
  esac

  printf '%-50s %-16s %d passed, %d failed%s\n' "$label" "$status" "$passed" "$failed" "$note"
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
done <<<"$targets"

# Checks that are not Bazel tests, each counted as one test: the lint (formatting, layers, file
# sizes, no tracked artifacts), the switch and stream framing fuzzers for a bounded number of
# runs, and the benchmark's smoke mode (every path still delivers). IPNFS_SKIP_EXTRA=1 skips all
# but the lint.
run_check() {
  local name="$1"; shift
  local log
  log="$(mktemp -t "ipnfs-$name.XXXXXX.log")"
  if timeout 900 "$@" >"$log" 2>&1; then
    printf '%-50s %-16s 1 passed, 0 failed\n' "check:$name" PASSED
    total_passed=$((total_passed + 1))
  else
    printf '%-50s %-16s 0 passed, 1 failed (see %s)\n' "check:$name" FAILED "$log"
    tail -n 20 "$log" | sed 's/^/    /'
    total_failed=$((total_failed + 1))
  fi
}
run_check lint bash scripts/lint.sh
if [[ "${IPNFS_SKIP_EXTRA:-0}" != 1 && "$*" != *--config=asan* ]]; then
  run_check fuzz_switch bash scripts/fuzz.sh 50000
  run_check fuzz_stream_deframer bash scripts/fuzz.sh 50000 stream_deframer_fuzzer
  [[ ! -f scripts/bench.sh ]] || run_check bench_smoke bash scripts/bench.sh --smoke
fi

if ((query_rc != 0)); then
  echo "bazel query 'tests(//...)' failed (exit $query_rc): some test targets may be missing"
  total_failed=$((total_failed + 1))
fi
if ((bazel_rc != 0 && total_failed == 0)); then
  echo "bazel test exited with status $bazel_rc"
  total_failed=$((total_failed + 1))
fi

echo "$total_passed passed, $total_failed failed"
((total_failed == 0 && total_passed > 0))
