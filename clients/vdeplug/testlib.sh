# testlib.sh: the harness the vdeplug and QEMU integration tests source (bash).
#
# A test script defines one function per case and ends with `testlib_main "$@"` after calling
# `run_case` / `run_cases_parallel`. Each case runs as its own process (the script re-executed with
# --case FUNCTION) under a timeout, with the daemon mounted once per script on a temporary
# directory ($MNT). Everything a case starts with `spawn` is stopped when the case ends; the mount,
# namespaces and files go away when the script ends, also on failure or timeout. Results go to
# $XML_OUTPUT_FILE (one <testcase> per case) and as "PASS/FAIL name" lines to stdout.
#
# Paths: under `bazel test`, the daemon and the plugin come from the runfiles; run by hand, set
# IPNFS_BIN and IPNFS_VDEPLUG_DIR (defaults: bazel-bin/fs/ipnfs, bazel-bin/clients/vdeplug).

set -uo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

if [[ -n "${TEST_SRCDIR:-}" ]]; then
  _runfiles="$TEST_SRCDIR/ipnfs"
  : "${IPNFS_BIN:=$_runfiles/fs/ipnfs}"
  : "${IPNFS_VDEPLUG_DIR:=$_runfiles/clients/vdeplug}"
else
  : "${IPNFS_BIN:=bazel-bin/fs/ipnfs}"
  : "${IPNFS_VDEPLUG_DIR:=bazel-bin/clients/vdeplug}"
fi
IPNFS_BIN="$(realpath "$IPNFS_BIN")"
IPNFS_VDEPLUG_DIR="$(realpath "$IPNFS_VDEPLUG_DIR")"
NETCLIENT="$(dirname "$(realpath "${BASH_SOURCE[0]}")")/netclient.py"
SYSTEM_VDEPLUG_DIR="/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/vdeplug"
export IPNFS_BIN IPNFS_VDEPLUG_DIR NETCLIENT SYSTEM_VDEPLUG_DIR

# ---- inside a case ------------------------------------------------------------------------------

# Logs a step (stderr, kept in the case's log).
step() { echo "--- $*" >&2; }

# Fails the case with a message.
die() {
  echo "FAILED: $*" >&2
  exit 1
}

# spawn LOGNAME COMMAND...: starts COMMAND (an executable, or in_netns EXECUTABLE...) in the
# background, stdout to $CASE_DIR/LOGNAME.out and stderr to $CASE_DIR/LOGNAME.err; stopped when
# the case ends. Sets SPAWNED to its pid.
spawn() {
  local name="$1"
  shift
  # A backgrounded function would be a subshell: its pid is not the command's.
  [[ "$1" != in_netns ]] || set -- ip netns exec "$NETNS" "${@:2}"
  "$@" <&0 >"$CASE_DIR/$name.out" 2>"$CASE_DIR/$name.err" &  # <&0: not /dev/null.
  SPAWNED=$!
  echo "$SPAWNED" >>"$CASE_DIR/pids"
  echo "$SPAWNED" >>"$WORK/pids"
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s until it succeeds.
wait_for() {
  local seconds="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${seconds}s waiting for $what"
    sleep 0.1
  done
}

# Stops the pids in FILE (TERM, then KILL after 3 s), newest first.
_stop_pids() {
  local file="$1" pid
  [[ -f "$file" ]] || return 0
  local pids
  pids="$(tac "$file")"
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 30); do
    local alive=0
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null; done
  : >"$file"
}

# new_netns: a network namespace for this case with lo up; sets NETNS. Deleted at the end.
new_netns() {
  NETNS="ipnfs-${CASE_NAME//_/-}-$$"
  NETNS="${NETNS:0:40}"
  ip netns add "$NETNS" || die "ip netns add $NETNS"
  echo "$NETNS" >>"$WORK/netns"
  ip -n "$NETNS" link set lo up
}

# in_netns COMMAND...: runs COMMAND inside $NETNS.
in_netns() { ip netns exec "$NETNS" "$@"; }

_case_main() {
  CASE_NAME="$1"
  CASE_DIR="$WORK/cases/$CASE_NAME"
  rm -rf "$CASE_DIR"  # A case may run more than once (the benchmark's NICs).
  mkdir -p "$CASE_DIR"
  : >"$CASE_DIR/pids"
  trap '_rc=$?; set +e; _stop_pids "$CASE_DIR/pids"; exit $_rc' EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  set -e
  "$CASE_NAME"
}

# ---- the script ---------------------------------------------------------------------------------

_results=()

# Records one result; prints PASS/FAIL with the log of a failure.
_record() {
  local fn="$1" title="$2" rc="$3" seconds="$4" log="$5"
  _results+=("$rc|$seconds|$fn|$title|$log")
  if ((rc == 0)); then
    printf 'PASS %s (%ss)\n' "$title" "$seconds"
  else
    local why="exit $rc"
    ((rc == 124)) && why="timed out"
    printf 'FAIL %s (%ss, %s)\n' "$title" "$seconds" "$why"
    sed 's/^/    | /' "$log" | tail -n 60
    local f
    for f in "$WORK/cases/$fn"/*.{out,err,serial}; do
      [[ -f "$f" ]] || continue
      printf '    %s (last lines):\n' "$(basename "$f")"
      tr -cd '\11\12\40-\176' <"$f" | tail -n 15 | sed 's/^/    | /'
    done
  fi
}

# run_case SECONDS FUNCTION "title as a sentence": runs one case, bounded by SECONDS.
run_case() {
  local limit="$1" fn="$2" title="$3" start=$SECONDS rc=0
  local log="$WORK/$fn.case.log"
  timeout -k 5 "$limit" bash "$_script" --case "$fn" >"$log" 2>&1 || rc=$?
  _record "$fn" "$title" "$rc" $((SECONDS - start)) "$log"
}

# run_cases_parallel SECONDS FUNCTION "title" [FUNCTION "title"]...: runs cases at the same time.
run_cases_parallel() {
  local limit="$1"
  shift
  local -a fns=() titles=() pids=()
  local start=$SECONDS
  while (($# >= 2)); do
    fns+=("$1")
    titles+=("$2")
    timeout -k 5 "$limit" bash "$_script" --case "$1" >"$WORK/$1.case.log" 2>&1 &
    pids+=($!)
    shift 2
  done
  local i rc
  for i in "${!fns[@]}"; do
    rc=0
    wait "${pids[$i]}" || rc=$?
    _record "${fns[$i]}" "${titles[$i]}" "$rc" $((SECONDS - start)) "$WORK/${fns[$i]}.case.log"
  done
}

_xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }

_write_xml() {
  local out="${XML_OUTPUT_FILE:-}" suite
  [[ -n "$out" ]] || return 0
  suite="$(basename "$_script" .sh)"
  local tests=${#_results[@]} failures=0 r
  for r in "${_results[@]}"; do [[ "${r%%|*}" == 0 ]] || failures=$((failures + 1)); done
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuites><testsuite name=\"$suite\" tests=\"$tests\" failures=\"$failures\" errors=\"0\">"
    for r in "${_results[@]}"; do
      IFS='|' read -r rc seconds fn title log <<<"$r"
      printf '<testcase classname="%s" name="%s" time="%s">' "$suite" \
        "$(_xml_escape <<<"$title")" "$seconds"
      if [[ "$rc" != 0 ]]; then
        printf '<failure message="exit %s"><![CDATA[' "$rc"
        tail -n 100 "$log" | tr -cd '\11\12\15\40-\176' | sed 's/]]>/]] >/g'
        printf ']]></failure>'
      fi
      echo '</testcase>'
    done
    echo '</testsuite></testsuites>'
  } >"$out"
}

_cleanup() {
  local rc=$?
  set +e
  _stop_pids "$WORK/pids"
  if [[ -n "${MNT:-}" ]] && mountpoint -q "$MNT"; then
    if ! fusermount3 -u "$MNT"; then
      echo "still using the mount:"
      fuser -vm "$MNT" 2>&1 | grep -v '^Cannot stat' 
      fusermount3 -u -z "$MNT"
    fi
  fi
  if [[ -n "${_daemon:-}" ]]; then
    # ipnfs may take seconds to exit after an unmount (more with poll handles left).
    for _ in $(seq 200); do kill -0 "$_daemon" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$_daemon" 2>/dev/null; then
      echo "ipnfs did not exit within 20 s of the unmount; killed. Its log:"
      tail -n 20 "$WORK/ipnfs.log"
      kill -KILL "$_daemon" 2>/dev/null
    fi
    wait "$_daemon" 2>/dev/null
  fi
  if [[ -f "$WORK/netns" ]]; then
    local ns
    while read -r ns; do ip netns del "$ns" 2>/dev/null; done <"$WORK/netns"
  fi
  _write_xml
  rm -rf "$WORK"
  exit "$rc"
}

# mount_ipnfs: starts the daemon on $MNT (in $WORK) and waits for the mount.
_mount_ipnfs() {
  mkdir -p "$MNT"
  "$IPNFS_BIN" --state=none "$MNT" >"$WORK/ipnfs.log" 2>&1 &
  _daemon=$!
  local deadline=$((SECONDS + 10))
  until mountpoint -q "$MNT"; do
    if ((SECONDS >= deadline)) || ! kill -0 "$_daemon" 2>/dev/null; then
      echo "ipnfs did not mount on $MNT:" >&2
      cat "$WORK/ipnfs.log" >&2
      return 1
    fi
    sleep 0.05
  done
}

# testlib_setup: call first in a test script; sets WORK and MNT and mounts the daemon.
testlib_setup() {
  _script="$(realpath "$0")"
  if [[ "${1:-}" == "--case" ]]; then
    _case_main "$2"
    exit $?
  fi
  # Short paths: VDE and QMP sockets live here (sun_path is 108 bytes).
  WORK="$(mktemp -d /tmp/ipnfs-vdeplug.XXXXXX)"
  chmod 755 "$WORK"  # Other users (nobody) reach the mount below.
  MNT="$WORK/mnt"
  # A copy of the plugin that other users can load too (the runfiles may be under /root).
  mkdir -p "$WORK/vdeplug"
  cp "$IPNFS_VDEPLUG_DIR/libvdeplug_ipn.so" "$WORK/vdeplug/"
  chmod -R a+rX "$WORK/vdeplug"
  # With VDEPLUGIN_PATH set, libvdeplug looks nowhere else: keep the system's vde://, tap:// too.
  VDEPLUGIN_PATH="$WORK/vdeplug:$SYSTEM_VDEPLUG_DIR"
  export WORK MNT VDEPLUGIN_PATH
  : >"$WORK/pids"
  trap _cleanup EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  mkdir -p "$WORK/cases"
  if ! _mount_ipnfs; then
    _results+=("1|0|mount|ipnfs mounts on a temporary directory|$WORK/ipnfs.log")
    exit 1
  fi
}

# testlib_finish: call last; exit status 0 only if every case passed.
testlib_finish() {
  local failed=0 r
  for r in "${_results[@]}"; do [[ "${r%%|*}" == 0 ]] || failed=$((failed + 1)); done
  echo "$((${#_results[@]} - failed)) passed, $failed failed"
  ((failed == 0 && ${#_results[@]} > 0))
}
