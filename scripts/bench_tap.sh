#!/usr/bin/env bash
# Benchmarks the tap backend: iperf3 TCP throughput and ping latency between two network
# namespaces A and B (one pair per path, same addresses), in the same run, with interleaved rounds:
#   ipnfs   an ipnfs hub network with two taps (setfattr user.ipn.tap), one moved into each
#   ipnfs busy  the same on a daemon started with --busy_poll_us=1000
#   veth    a veth pair, one end in each
#   bridge  a kernel bridge with two veths, one veth's other end in each
# Each round measures every path once; prints a markdown table of the medians on stdout (progress
# on stderr); ratios are to the bridge.
#
# Usage: scripts/bench_tap.sh [IPERF_SECONDS] [ROUNDS]   (defaults 5 and 3)
#   IPNFS_BIN=PATH  benchmark that daemon binary instead of building //fs:ipnfs (-c opt)
#
# Needs root, /dev/fuse, /dev/net/tun, iperf3, ping, ip, nsenter, unshare, setfattr, python3
# (scripts/deps.sh test). Everything runs in a private network namespace of its own (unshare
# --net), so the host's interfaces are never touched and every interface made here goes away with
# it. Bounded in time (timeout on every step, 300 s in all); on exit, also on failure or Ctrl-C,
# it stops what it started: its daemon (and mount), its namespace holders, its temporary dir.
# The time bound grows with the rounds: 60 + ROUNDS * 4 * (IPERF_SECONDS + 20) s.
set -euo pipefail

cd "$(dirname "$0")/.."

seconds="${1:-5}" rounds="${2:-3}"
[[ "$seconds" =~ ^[0-9]+$ ]] && ((seconds >= 1 && seconds <= 60)) &&
  [[ "$rounds" =~ ^[0-9]+$ ]] && ((rounds >= 1 && rounds <= 9)) ||
  { echo "usage: $0 [IPERF_SECONDS 1..60] [ROUNDS 1..9]" >&2; exit 2; }

log() { echo "bench_tap: $*" >&2; }
die() { log "$*"; exit 1; }

# ---------------------------------------------------------------------------------------------
# Outer part, in the caller's namespaces: build, then run the inner part in a private netns.
if [[ "${IPNFS_BENCH_INNER:-}" != 1 ]]; then
  ((EUID == 0)) || die "needs root (network namespaces, taps, FUSE)"
  for tool in iperf3 ping ip nsenter unshare setfattr fusermount3 mountpoint python3 timeout; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/deps.sh test installs it)"
  done
  work="$(mktemp -d /tmp/ipnfs_bench.XXXXXX)"
  cleanup_outer() {
    local m busy=0
    for m in "$work/mnt" "$work/mnt-busy"; do
      if mountpoint -q "$m" 2>/dev/null; then fusermount3 -u -z "$m" || true; fi
      if mountpoint -q "$m" 2>/dev/null; then busy=1; fi
    done
    ((busy)) || rm -rf --one-file-system "$work"
  }
  trap cleanup_outer EXIT
  if [[ -z "${IPNFS_BIN:-}" ]]; then
    log "building //fs:ipnfs (-c opt)"
    bazel build -c opt //fs:ipnfs >&2
    IPNFS_BIN="bazel-bin/fs/ipnfs"
  fi
  # A copy: a concurrent build cannot change the binary under the benchmark.
  cp "$IPNFS_BIN" "$work/ipnfs"
  status=0
  limit=$((60 + rounds * 4 * (seconds + 20)))
  IPNFS_BENCH_INNER=1 IPNFS_BENCH_WORK="$work" \
    timeout --kill-after=10 "$limit" unshare --net "$0" "$seconds" "$rounds" || status=$?
  ((status != 124)) || log "gave up after $limit s"
  exit "$status"
fi

# ---------------------------------------------------------------------------------------------
# Inner part, in the private network namespace.
work="$IPNFS_BENCH_WORK"
mnt="$work/mnt"
net="$mnt/bench"
addr_a=10.79.100.1
addr_b=10.79.100.2
holders=()
daemons=()

cleanup() {
  local pid
  for pid in "${holders[@]}"; do
    { kill -9 "$pid" && wait "$pid"; } 2>/dev/null || true
  done
  for pid in "${daemons[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    timeout 10 tail --pid="$pid" -f /dev/null || kill -9 "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

ip link set lo up

# Starts a process that holds a new network namespace; sets the variable named $1 to its pid.
new_namespace() {
  unshare --net sleep 600 &
  local pid=$! tries=0
  holders+=("$pid")
  while [[ "$(readlink "/proc/$pid/ns/net" || true)" == "$(readlink /proc/self/ns/net)" ]]; do
    ((++tries < 500)) || die "unshare --net did not make a namespace"
    sleep 0.01
  done
  nsenter --net="/proc/$pid/ns/net" ip link set lo up
  printf -v "$1" '%s' "$pid"
}
in_ns() { local pid="$1"; shift; nsenter --net="/proc/$pid/ns/net" -- "$@"; }

# Moves interface $2 into namespace $1, up, with address $3/24.
adopt() {
  ip link set "$2" netns "$1"
  in_ns "$1" ip link set "$2" up
  in_ns "$1" ip addr add "$3/24" dev "$2"
}

# Starts a daemon on mount point $1 with flags $2...
start_daemon() {
  mkdir "$1"
  "$work/ipnfs" --state=none "${@:2}" "$1" 2>>"$work/daemon.log" &
  daemons+=($!)
  for ((i = 0; i < 500; ++i)); do mountpoint -q "$1" && break; sleep 0.01; done
  mountpoint -q "$1" || die "the daemon did not mount $1: $(cat "$work/daemon.log")"
}
start_daemon "$mnt"
start_daemon "$work/mnt-busy" --busy_poll_us=1000

# Measures from A to B of path $1 (namespace holders $2, $3); appends
# "name|gbps|retransmits|avg_us|mdev_us|loss" to results.
results=()
measure() {
  local name="$1" in_a=(nsenter --net="/proc/$2/ns/net" --) in_b=(nsenter --net="/proc/$3/ns/net" --)
  log "$name: warming up"
  timeout 20 "${in_a[@]}" ping -c 3 -W 2 -q "$addr_b" >/dev/null ||
    die "$name: A cannot ping B"
  log "$name: iperf3 -t $seconds"
  timeout $((seconds + 20)) "${in_b[@]}" iperf3 -s -1 -B "$addr_b" >/dev/null 2>&1 &
  local server=$! tries=0
  until "${in_b[@]}" ss -Htln "sport = :5201" | grep -q .; do
    ((++tries < 500)) || die "$name: iperf3 server does not listen"
    sleep 0.01
  done
  local json
  json="$(timeout $((seconds + 20)) "${in_a[@]}" iperf3 -c "$addr_b" -t "$seconds" -J)" ||
    die "$name: iperf3 failed: $json"
  wait "$server" || true
  local tcp gbps retransmits avg mdev
  tcp="$(python3 -c 'import json, sys
end = json.load(sys.stdin)["end"]
print("%.3f %d" % (end["sum_received"]["bits_per_second"] / 1e9,
                   end["sum_sent"].get("retransmits", 0)))' <<<"$json")"
  log "$name: ping -c 1000 -i 0.001"
  local ping rtt loss
  ping="$(timeout 60 "${in_a[@]}" ping -c 1000 -i 0.001 -q "$addr_b")" || true
  rtt="$(sed -n 's|^rtt min/avg/max/mdev = [0-9.]*/\([0-9.]*\)/[0-9.]*/\([0-9.]*\) ms$|\1 \2|p' \
    <<<"$ping")"
  loss="$(grep -o '[0-9.]*% packet loss' <<<"$ping" | cut -d' ' -f1)"
  [[ -n "$rtt" ]] || die "$name: no ping statistics: $ping"
  read -r gbps retransmits <<<"$tcp"
  read -r avg mdev <<<"$(awk '{ printf "%.1f %.1f", $1 * 1000, $2 * 1000 }' <<<"$rtt")"
  results+=("$name|$gbps|$retransmits|$avg|$mdev|$loss")
}

# 1. ipnfs: a hub network with two taps.
new_namespace ipnfs_a
new_namespace ipnfs_b
log "ipnfs: setfattr -n user.ipn.tap -v ipnb0,ipnb1"
touch "$net"
setfattr -n user.ipn.tap -v ipnb0,ipnb1 "$net"
adopt "$ipnfs_a" ipnb0 "$addr_a"
adopt "$ipnfs_b" ipnb1 "$addr_b"
new_namespace busy_a
new_namespace busy_b
touch "$work/mnt-busy/bench"
setfattr -n user.ipn.tap -v ipnc0,ipnc1 "$work/mnt-busy/bench"
adopt "$busy_a" ipnc0 "$addr_a"
adopt "$busy_b" ipnc1 "$addr_b"

# 2. A veth pair.
new_namespace veth_a
new_namespace veth_b
ip link add vb-a type veth peer name vb-b
adopt "$veth_a" vb-a "$addr_a"
adopt "$veth_b" vb-b "$addr_b"

# 3. A kernel bridge with two veths.
new_namespace bridge_a
new_namespace bridge_b
ip link add br-bench type bridge
ip link set br-bench up
for side in a b; do
  ip link add "vbr-$side" type veth peer name "vbr-$side-p"
  ip link set "vbr-$side-p" master br-bench
  ip link set "vbr-$side-p" up
done
adopt "$bridge_a" vbr-a "$addr_a"
adopt "$bridge_b" vbr-b "$addr_b"

names=("ipnfs hub (2 taps)" "veth pair" "kernel bridge (2 veths)" "ipnfs hub, --busy_poll_us=1000")
for ((round = 1; round <= rounds; round++)); do
  log "round $round of $rounds"
  measure "${names[0]}" "$ipnfs_a" "$ipnfs_b"
  measure "${names[1]}" "$veth_a" "$veth_b"
  measure "${names[2]}" "$bridge_a" "$bridge_b"
  measure "${names[3]}" "$busy_a" "$busy_b"
done
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }
cpu="$(cpu_seconds "${daemons[0]}") s without busy polling, $(cpu_seconds "${daemons[1]}") s with"
ports="$(getfattr --absolute-names --only-values -n user.ipn.ports "$net")"
stats="$(getfattr --absolute-names --only-values -n user.ipn.stats "$net" | tr '\n' ' ')"
rm "$net" "$work/mnt-busy/bench"  # Deletes the taps, wherever they are.

# The table: medians over the rounds; ratios to the bridge's medians.
echo
printf '%s\n' "${results[@]}" | python3 -c '
import statistics, sys
rows = {}
for line in sys.stdin:
    name, gbps, retransmits, avg, mdev, loss = line.rstrip("\n").split("|")
    rows.setdefault(name, []).append((float(gbps), int(retransmits), float(avg), float(mdev), loss))
med = {n: [statistics.median(r[i] for r in rs) for i in range(4)] for n, rs in rows.items()}
bridge = med["kernel bridge (2 veths)"]
seconds = sys.argv[1]
print(f"| path | TCP Gbit/s (iperf3 -t {seconds}), median | vs bridge | rounds (Gbit/s) | retransmits "
      "| ping avg µs | mdev µs | vs bridge | loss |")
print("|---|---:|---:|---|---:|---:|---:|---:|---|")
for name, rs in rows.items():
    g, r, a, m = med[name]
    each = " / ".join(f"{x[0]:.2f}" for x in rs)
    losses = " / ".join(x[4] for x in rs)
    print(f"| {name} | {g:.2f} | {g / bridge[0]:.2f} | {each} | {r:.0f} | {a:.1f} | {m:.1f} "
          f"| {a / bridge[2]:.2f} | {losses} |")
' "$seconds"
echo
echo "ping: \`ping -c 1000 -i 0.001 -q\` from A to B; TCP: \`iperf3 -c B -t $seconds\` from A (received rate);" \
  "medians of $rounds interleaved rounds."
echo "CPU time of the daemons over the whole run (each carried traffic in 1 of 4 measurements): $cpu."
echo "$(uname -sr), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ). ipnfs ports after the run:"
echo
echo '```'
echo "$ports"
echo "$stats"
echo '```'
