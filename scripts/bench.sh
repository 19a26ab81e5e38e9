#!/usr/bin/env bash
# Benchmarks ipnfs against its peers in one run, with interleaved rounds, and reports the daemon's
# memory (issue 8, item 1).
# Usage: scripts/bench.sh [--smoke] [--rounds=N] [--seconds=S] [--count=N] [--nice=N]
#                         [--cases=PATH,PATH...] [--sizes=64,1500]
#
# Workload (bench/blast.cc): 1 sender -> 1 receiver (unicast to the receiver's MAC, which it made
# known with one hello frame) and 1 sender -> 3 receivers (broadcast), 64- and 1500-byte Ethernet
# frames, sent as fast as the path takes them for --seconds (2) or --count (200000) frames,
# whichever comes first; receivers count until 0.5 s after the sender stops. Paths:
#   ipnfs-hub, ipnfs-switch                 network files, one write/read per frame, FUSE through
#                                           /dev/fuse (--fuse_uring=off)
#   ipnfs-hub-uring, ipnfs-switch-uring     the same, FUSE over io_uring (--fuse_uring=on, which
#                                           turns the fuse module's enable_uring on and leaves it)
#   ipnfs-hub-busy                          the same with --busy_poll_us=50 (see its CPU column)
#   ipnfs-hub-framed, ipnfs-switch-framed   IPNFS_IOC_FRAMED: 64 frames per write, reads take all
#   ipnfs-tap-hub, ipnfs-tap-switch         taps of the daemon (user.ipn.tap), packet sockets on them
#   ipnfs-seqpacket-hub, -seqpacket-switch  socket faces of the same networks (issue 14):
#                                           SOCK_SEQPACKET connections to $mnt/.seqpacket/NET,
#                                           one send/recv per frame
#   ipnfs-stream-hub, ipnfs-stream-switch   SOCK_STREAM connections to $mnt/.stream/NET, 4-byte
#                                           big-endian length before each frame: one send per
#                                           frame, reads take all that is queued (up to 64 KiB)
#   vde-hub, vde-switch                     vde_switch -x / vde_switch, clients on libvdeplug
#   vde-tap-hub, vde-tap-switch             the same with taps (vde_switch --tap), packet sockets
#                                           on them: the peer of ipnfs-tap-hub/-switch
#   bridge                                  a kernel bridge of taps, clients on /dev/net/tun fds
#   unix                                    an AF_UNIX datagram socket, 1 -> 1 only: the ceiling
# Full mode: --rounds (3) rounds, each measuring every case once; prints a markdown table of the
# medians, with the switch's CPU time per second of sending and per delivered packet. --smoke: one
# round of 0.2 s per case; exits 1 unless every receiver of every case received something (for CI:
# about a minute once built). --nice=N runs the daemons, vde_switch and every client at that
# niceness (e.g. -19): on a machine others keep busy, the figures then come closer to an idle
# machine's. The table's header says how busy the CPUs were. --cases runs only the named paths
# (and skips the memory measurement), --sizes only those frame sizes (64 and 1500 by default);
# ratios need their reference path (vde-hub, vde-switch, bridge) in the run.
#
# Needs root (FUSE, taps, bridge), vde_switch (vde2), ip (iproute2), setfattr (attr), python3.
# Every client runs under a hard timeout and the whole run under a watchdog. Cleans up only what it
# started: its daemons and their mounts, its interfaces, its vde_switch processes, its temp dir.
set -euo pipefail

cd "$(dirname "$0")/.."

smoke=0 rounds=3 seconds=2 count=200000 grace=0.5 niceness=0 prio=() cases="" sizes=(64 1500)
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=1 rounds=1 seconds=0.2 grace=0.2 ;;
    --rounds=*) rounds="${arg#*=}" ;;
    --seconds=*) seconds="${arg#*=}" ;;
    --count=*) count="${arg#*=}" ;;
    --nice=*) niceness="${arg#*=}" prio=(nice -n "${arg#*=}") ;;
    --cases=*) cases="${arg#*=}" ;;
    --sizes=*) IFS=, read -r -a sizes <<<"${arg#*=}" ;;
    *) sed -n '2,36p' "$0" >&2; exit 2 ;;
  esac
done
((EUID == 0)) || { echo "bench.sh: needs root (FUSE mounts, taps, a bridge)" >&2; exit 1; }
for tool in vde_switch ip setfattr python3 timeout mountpoint; do
  command -v "$tool" >/dev/null || { echo "bench.sh: missing $tool (scripts/deps.sh test)" >&2; exit 1; }
done

bash scripts/deps.sh build
bazel build -c opt //fs:ipnfs //bench:blast //bench:hold_ports

# --- What this run started, for cleanup -----------------------------------------------------------
tmp="" daemon_pids=() mounts=() links=() vde_pids=() client_pids=() watchdog_pid=""
# forget ARRAY PID: drops PID from the array once it is gone.
forget() {
  local -n list="$1"
  local kept=() pid
  for pid in "${list[@]}"; do [[ "$pid" == "$2" ]] || kept+=("$pid"); done
  list=("${kept[@]}")
}
cleanup() {
  set +e
  # Clients: `timeout` passes TERM on; each also has its own deadline.
  ((${#client_pids[@]} == 0)) || kill -TERM "${client_pids[@]}" 2>/dev/null
  for pid in "${daemon_pids[@]}" "${vde_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${daemon_pids[@]}" "${vde_pids[@]}"; do timeout 10 tail --pid="$pid" -f /dev/null; done
  for m in "${mounts[@]}"; do mountpoint -q "$m" && umount -l "$m"; done
  for pid in "${daemon_pids[@]}" "${vde_pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  for link in "${links[@]}"; do ip link del "$link" 2>/dev/null; done
  [[ -z "$watchdog_pid" ]] || kill -TERM "$watchdog_pid" 2>/dev/null
  wait 2>/dev/null
  [[ -z "$tmp" ]] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tmp="$(mktemp -d /tmp/ipnfs-bench.XXXXXX)"
# Copies, so that builds by others during the run cannot change what is measured.
bin="$tmp/bin"
mkdir "$bin"
opt_bin="$(bazel info -c opt bazel-bin 2>/dev/null)"
cp "$opt_bin/fs/ipnfs" "$opt_bin/bench/blast" "$opt_bin/bench/hold_ports" "$bin/"

# The watchdog: however the run goes, it ends (and cleans up) within this many seconds.
if ((smoke)); then max_seconds=180; else max_seconds=$((60 + rounds * 60 * (${seconds%.*} + 3))); fi
watchdog() {
  sleep "$1" & local s=$!
  trap 'kill $s 2>/dev/null; exit 0' TERM
  wait "$s"
  echo "bench.sh: watchdog: still running after $1 s, stopping" >&2
  kill -TERM $$
}
watchdog "$max_seconds" &
watchdog_pid=$!

# --- Pieces ----------------------------------------------------------------------------------------
die() { echo "bench.sh: $*" >&2; exit 1; }
# Waits up to 10 s for `test ARGS` to hold.
await() { for _ in $(seq 1000); do "$@" && return 0; sleep 0.01; done; return 1; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
has_line() { grep -q "^$2" "$1" 2>/dev/null; }
# How busy the CPUs are over one second, in percent: others' work skews every figure.
cpu_busy() {
  local _ u n s i w q sq st busy0 total0
  read -r _ u n s i w q sq st _ </proc/stat
  busy0=$((u + n + s + q + sq + st)) total0=$((u + n + s + i + w + q + sq + st))
  sleep 1
  read -r _ u n s i w q sq st _ </proc/stat
  echo $((100 * (u + n + s + q + sq + st - busy0) / (u + n + s + i + w + q + sq + st - total0 + 1)))
}

# start_daemon MOUNTPOINT [FLAGS...]: mounts a fresh ipnfs (no state file); sets daemon_pid.
start_daemon() {
  mkdir -p "$1"
  "${prio[@]}" "$bin/ipnfs" --state=none --log_level=warning "${@:2}" "$1" 2>>"$tmp/ipnfs.log" &
  daemon_pid=$!
  daemon_pids+=("$daemon_pid")
  mounts+=("$1")
  await mountpoint -q "$1" || die "ipnfs did not mount $1: $(tail -n 3 "$tmp/ipnfs.log")"
}
stop_daemon() {
  kill -TERM "$1"
  timeout 10 tail --pid="$1" -f /dev/null || die "ipnfs $1 did not exit"
  forget daemon_pids "$1"
}

# new_link NAME: dies when interface NAME exists: this run creates only interfaces it owns.
new_link() {
  ! ip link show dev "$1" >/dev/null 2>&1 || die "interface $1 exists already: not ours, not touching it"
}
no_ipv6() { sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1" 2>/dev/null || true; }

# start_vde NAME ARGS...: a vde_switch daemon on $tmp/NAME; sets vde_pid.
start_vde() {
  "${prio[@]}" vde_switch -s "$tmp/$1" -d -p "$tmp/$1.pid" "${@:2}" </dev/null >>"$tmp/vde.log" 2>&1
  await test -s "$tmp/$1.pid" || die "vde_switch $1 did not start"
  vde_pid="$(cat "$tmp/$1.pid")"
  vde_pids+=("$vde_pid")
  await test -S "$tmp/$1/ctl" || die "vde_switch $1: no $tmp/$1/ctl"
}

print_machine() {
  local v
  echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))," \
    "kernel $(uname -r)"
  for v in /sys/module/kvm/parameters/halt_poll_ns /sys/module/haltpoll/parameters/guest_halt_poll_ns \
    /sys/devices/system/cpu/cpuidle/current_driver /sys/module/fuse/parameters/enable_uring; do
    [[ -r "$v" ]] && echo "- \`$v\` = $(cat "$v")" || echo "- \`$v\`: absent"
  done
  echo "- run: \`scripts/bench.sh $*\` (rounds: $rounds; per case: ${seconds} s or $count frames;" \
    "niceness $niceness)," \
    "ipnfs at $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- core fs policies tap sock || echo ' + uncommitted changes')"
}

# --- Memory ----------------------------------------------------------------------------------------
# hold NETWORKS PORTS DIR: sets held_rss to the daemon's RSS while hold_ports holds them open.
hold() {
  mkdir -p "$3"
  "${prio[@]}" timeout -k 1 60 "$bin/hold_ports" --networks="$1" --ports="$2" "$3" >"$tmp/hold.out" 2>&1 &
  client_pids=($!)
  await has_line "$tmp/hold.out" ready || die "hold_ports $*: $(cat "$tmp/hold.out")"
  sleep 0.2
  held_rss="$(rss_kib "$daemon_pid")"
  kill -TERM "${client_pids[@]}"
  wait "${client_pids[@]}" 2>/dev/null || true
  client_pids=()
}
# Sets memory_table: the daemon's RSS idle, with 1,000 ports on one network, with 1,000 networks.
measure_memory() {
  start_daemon "$tmp/mem"
  sleep 0.2
  local idle ports nets
  idle="$(rss_kib "$daemon_pid")"
  hold 1 1000 "$tmp/mem/one"; ports=$held_rss
  hold 1000 1 "$tmp/mem/many"; nets=$held_rss
  stop_daemon "$daemon_pid"
  per_port() { awk -v a="$1" -v b="$idle" 'BEGIN { printf "%.1f", (a - b) / 1000 }'; }
  memory_table="| daemon | VmRSS KiB | more than idle, per port KiB |
|---|---:|---:|
| idle, just mounted | $idle | |
| 1,000 ports open on one network | $ports | $(per_port "$ports") |
| 1,000 networks, one port each | $nets | $(per_port "$nets") |"
}

# --- Traffic ---------------------------------------------------------------------------------------
tag="$(printf '%04x' $(($$ & 0xffff)))"
hub_taps="ih${tag}"    # the daemon's taps: ih${tag}s (sender), ih${tag}1..3 (receivers)
switch_taps="is${tag}"
bridge="ib${tag}"      # the bridge, and its taps ib${tag}s, ib${tag}1..3
vde_hub_taps="vh${tag}" vde_switch_taps="vs${tag}"  # vde_switch's taps, named as the daemon's

setup_traffic() {
  local net policy taps t
  # The same networks on daemons serving FUSE over io_uring, without and with busy polling.
  mnt_uring="$tmp/mnt-uring" mnt_busy="$tmp/mnt-busy"
  start_daemon "$mnt_uring" --fuse_uring=on; uring_pid="$daemon_pid"
  start_daemon "$mnt_busy" --fuse_uring=on --busy_poll_us=50; busy_pid="$daemon_pid"
  for net in hub switch; do
    touch "$mnt_uring/$net" "$mnt_busy/$net"
    setfattr -n user.ipn.policy -v "$net" "$mnt_uring/$net"
    setfattr -n user.ipn.policy -v "$net" "$mnt_busy/$net"
  done
  mnt="$tmp/mnt"
  start_daemon "$mnt" --fuse_uring=off
  ipnfs_pid="$daemon_pid"
  for net in hub:hub switch:switch taphub:hub:$hub_taps tapswitch:switch:$switch_taps; do
    IFS=: read -r net policy taps <<<"$net"
    touch "$mnt/$net"
    setfattr -n user.ipn.policy -v "$policy" "$mnt/$net"
    [[ -n "$taps" ]] || continue
    for t in s 1 2 3; do new_link "$taps$t"; done  # The daemon's: gone when it detaches them.
    setfattr -n user.ipn.tap -v "${taps}s,${taps}1,${taps}2,${taps}3" "$mnt/$net"
    for t in s 1 2 3; do no_ipv6 "$taps$t"; done
  done
  start_vde vdehub -x; vde_hub_pid="$vde_pid"
  start_vde vdeswitch; vde_switch_pid="$vde_pid"
  local args
  for net in taphub:-x:$vde_hub_taps tapswitch::$vde_switch_taps; do
    IFS=: read -r net args taps <<<"$net"
    for t in s 1 2 3; do new_link "$taps$t"; links+=("$taps$t"); done
    # shellcheck disable=SC2086  # $args: no option, or one.
    start_vde "vde$net" $args --tap "${taps}s" --tap "${taps}1" --tap "${taps}2" --tap "${taps}3"
    for t in s 1 2 3; do await ip link show dev "$taps$t" >/dev/null 2>&1 || die "no tap $taps$t"; done
    for t in s 1 2 3; do no_ipv6 "$taps$t"; ip link set "$taps$t" up; done
    [[ "$net" == taphub ]] && vde_tap_hub_pid="$vde_pid" || vde_tap_switch_pid="$vde_pid"
  done
  new_link "$bridge"
  ip link add name "$bridge" type bridge stp_state 0 forward_delay 0
  links+=("$bridge")
  no_ipv6 "$bridge"
  for t in s 1 2 3; do
    new_link "$bridge$t"
    ip tuntap add dev "$bridge$t" mode tap
    links+=("$bridge$t")
    no_ipv6 "$bridge$t"
    ip link set "$bridge$t" master "$bridge" up
  done
  ip link set "$bridge" up
}

# endpoints PATH: sets send_ep, recv_ep (a prefix: receiver I uses ${recv_ep}I when it ends in
# a tap name), switch_pid (whose CPU time counts) and hello.
endpoints() {
  hello=true switch_pid="" recv_suffix=0
  case "$1" in
    ipnfs-hub) send_ep="file:$mnt/hub" recv_ep="file:$mnt/hub" switch_pid=$ipnfs_pid ;;
    ipnfs-switch) send_ep="file:$mnt/switch" recv_ep="file:$mnt/switch" switch_pid=$ipnfs_pid ;;
    ipnfs-hub-uring) send_ep="file:$mnt_uring/hub" recv_ep="file:$mnt_uring/hub" switch_pid=$uring_pid ;;
    ipnfs-switch-uring) send_ep="file:$mnt_uring/switch" recv_ep="file:$mnt_uring/switch" switch_pid=$uring_pid ;;
    ipnfs-hub-busy) send_ep="file:$mnt_busy/hub" recv_ep="file:$mnt_busy/hub" switch_pid=$busy_pid ;;
    ipnfs-hub-framed) send_ep="framed:$mnt/hub" recv_ep="framed:$mnt/hub" switch_pid=$ipnfs_pid ;;
    ipnfs-switch-framed) send_ep="framed:$mnt/switch" recv_ep="framed:$mnt/switch" switch_pid=$ipnfs_pid ;;
    ipnfs-tap-hub) send_ep="packet:${hub_taps}s" recv_ep="packet:$hub_taps" recv_suffix=1 switch_pid=$ipnfs_pid ;;
    ipnfs-tap-switch) send_ep="packet:${switch_taps}s" recv_ep="packet:$switch_taps" recv_suffix=1 switch_pid=$ipnfs_pid ;;
    ipnfs-seqpacket-hub) send_ep="seqpacket:$mnt/.seqpacket/hub" recv_ep="$send_ep" switch_pid=$ipnfs_pid ;;
    ipnfs-seqpacket-switch) send_ep="seqpacket:$mnt/.seqpacket/switch" recv_ep="$send_ep" switch_pid=$ipnfs_pid ;;
    ipnfs-stream-hub) send_ep="stream:$mnt/.stream/hub" recv_ep="$send_ep" switch_pid=$ipnfs_pid ;;
    ipnfs-stream-switch) send_ep="stream:$mnt/.stream/switch" recv_ep="$send_ep" switch_pid=$ipnfs_pid ;;
    vde-hub) send_ep="vde://$tmp/vdehub" recv_ep="vde://$tmp/vdehub" switch_pid=$vde_hub_pid ;;
    vde-switch) send_ep="vde://$tmp/vdeswitch" recv_ep="vde://$tmp/vdeswitch" switch_pid=$vde_switch_pid ;;
    vde-tap-hub) send_ep="packet:${vde_hub_taps}s" recv_ep="packet:$vde_hub_taps" recv_suffix=1 switch_pid=$vde_tap_hub_pid ;;
    vde-tap-switch) send_ep="packet:${vde_switch_taps}s" recv_ep="packet:$vde_switch_taps" recv_suffix=1 switch_pid=$vde_tap_switch_pid ;;
    bridge) send_ep="tap:${bridge}s" recv_ep="tap:$bridge" recv_suffix=1 ;;
    unix) send_ep="unix:$tmp/unix.sock" recv_ep="unix:$tmp/unix.sock" hello=false ;;
    *) die "unknown path $1" ;;
  esac
}

# run_case ROUND PATH SIZE FANOUT: one measurement, appended to $results as
# "ROUND PATH SIZE FANOUT SENT ELAPSED_NS SEND_ERRORS SWITCH_CPU_TICKS RX1 [RX2 RX3]".
run_case() {
  local round=$1 path=$2 size=$3 fanout=$4 i ep dst=broadcast
  endpoints "$path"
  ((fanout > 1)) || dst=1
  local client_timeout=$((${seconds%.*} + 10))
  rm -f "$tmp"/r*.out "$tmp/s.out"
  client_pids=()
  for ((i = 1; i <= fanout; i++)); do
    ep="$recv_ep"; ((recv_suffix)) && ep="$recv_ep$i"
    "${prio[@]}" timeout -k 1 "$client_timeout" "$bin/blast" --role=recv --endpoint="$ep" --id="$i" \
      --size="$size" --hello="$hello" --deadline="$((client_timeout - 1))" \
      >"$tmp/r$i.out" 2>>"$tmp/clients.log" &
    client_pids+=($!)
  done
  for ((i = 1; i <= fanout; i++)); do
    await has_line "$tmp/r$i.out" ready || echo "$path $size 1->$fanout: receiver $i not ready" >>"$tmp/clients.log"
  done
  local ticks0=0 ticks1=0
  [[ -z "$switch_pid" ]] || ticks0="$(cpu_ticks "$switch_pid")"
  "${prio[@]}" timeout -k 1 "$client_timeout" "$bin/blast" --role=send --endpoint="$send_ep" --id=0 \
    --dst="$dst" --size="$size" --seconds="$seconds" --count="$count" \
    --deadline="$((client_timeout - 1))" >"$tmp/s.out" 2>>"$tmp/clients.log" || true
  sleep "$grace"
  [[ -z "$switch_pid" ]] || ticks1="$(cpu_ticks "$switch_pid")"
  kill -TERM "${client_pids[@]}" 2>/dev/null || true
  wait "${client_pids[@]}" 2>/dev/null || true
  client_pids=()
  local line sent="0 0 0"
  line="$(grep -m1 '^sent ' "$tmp/s.out" 2>/dev/null || true)"
  [[ -z "$line" ]] || sent="${line#sent }"
  local received=()
  for ((i = 1; i <= fanout; i++)); do
    line="$(grep -m1 '^received ' "$tmp/r$i.out" 2>/dev/null || true)"
    if [[ -n "$line" ]]; then received+=("${line#received }"); else received+=(missing); fi
  done
  echo "$round $path $size $fanout $sent $((ticks1 - ticks0)) ${received[*]}" >>"$results"
}

paths=(ipnfs-hub ipnfs-switch ipnfs-hub-uring ipnfs-switch-uring ipnfs-hub-busy ipnfs-hub-framed ipnfs-switch-framed ipnfs-tap-hub ipnfs-tap-switch
  ipnfs-seqpacket-hub ipnfs-seqpacket-switch ipnfs-stream-hub ipnfs-stream-switch vde-hub vde-switch vde-tap-hub vde-tap-switch bridge unix)
if [[ -n "$cases" ]]; then
  IFS=, read -r -a wanted <<<"$cases"
  for path in "${wanted[@]}"; do
    [[ " ${paths[*]} " == *" $path "* ]] || die "--cases: unknown path $path (one of: ${paths[*]})"
  done
  paths=("${wanted[@]}")
fi
for size in "${sizes[@]}"; do
  [[ "$size" =~ ^[0-9]+$ ]] && ((size >= 20 && size <= 1514)) || die "--sizes: $size is not 20..1514"
done

# --- The run ---------------------------------------------------------------------------------------
started=$SECONDS
results="$tmp/results"
: >"$results"
print_machine "$@"
busy_before=()
memory_table="(not measured: --cases)"
[[ -n "$cases" ]] || measure_memory
setup_traffic
for ((round = 1; round <= rounds; round++)); do
  busy_before+=("$(cpu_busy)%")
  for path in "${paths[@]}"; do
    for size in "${sizes[@]}"; do
      for fanout in 1 3; do
        [[ "$path" != unix || $fanout == 1 ]] || continue
        run_case "$round" "$path" "$size" "$fanout"
      done
    done
  done
  echo "round $round of $rounds done ($((SECONDS - started)) s)" >&2
done
traffic_rss="$(rss_kib "$ipnfs_pid")"
echo "- CPUs busy (all of them, in the second before each round; anything above a few % is someone" \
  "else's work, skewing the figures): ${busy_before[*]}; after the last round: $(cpu_busy)%"
echo
report_rc=0
python3 - "$results" "$(getconf CLK_TCK)" "$smoke" <<'PY' || report_rc=$?
import collections, statistics, sys

results, hz, smoke = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
cases = collections.OrderedDict()  # (path, size, fanout) -> list of per-round dicts
failures = []
for line in open(results):
    f = line.split()
    rnd, path, size, fanout = f[0], f[1], int(f[2]), int(f[3])
    sent, elapsed_ns, errors, ticks = int(f[4]), int(f[5]), int(f[6]), int(f[7])
    rx = f[8:]
    key = (path, size, fanout)
    if sent <= 0 or elapsed_ns <= 0 or any(not r.isdigit() or int(r) == 0 for r in rx):
        failures.append(f"{path} {size} B 1->{fanout} round {rnd}: sent {sent}, received {' '.join(rx)}")
        continue
    seconds = elapsed_ns / 1e9
    rx = [int(r) for r in rx]
    cases.setdefault(key, []).append(dict(
        rx_pps=statistics.mean(rx) / seconds,
        loss=100.0 * (1 - sum(rx) / (sent * fanout)),
        sent_pps=sent / seconds,
        cpu=100.0 * ticks / hz / seconds,
        # The switch's CPU time per packet delivered (all receivers together), in ns.
        cpu_ns=1e9 * ticks / hz / sum(rx)))

med = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in cases.items()}
def ratio(key, ref_path):
    ref = med.get((ref_path, key[1], key[2]))
    return f"{med[key]['rx_pps'] / ref['rx_pps']:.2f}x" if ref else "-"
def k(x): return f"{x / 1000:.1f}k"

print("| path | size | fan-out | rx pps per receiver | loss % | sent pps | switch CPU % "
      "| switch CPU ns per packet | x vde_switch | x vde_switch taps | x bridge | rounds (rx pps) |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for key, m in med.items():
    path, size, fanout = key
    vde = "vde-hub" if "hub" in path else "vde-switch"
    vde_taps = ratio(key, vde.replace("vde-", "vde-tap-")) if "-tap-" in path else "-"
    cpu = f"{m['cpu']:.0f}" if path.startswith(("ipnfs", "vde")) else "-"
    cpu_ns = f"{m['cpu_ns']:.0f}" if path.startswith(("ipnfs", "vde")) else "-"
    rounds = " / ".join(k(r["rx_pps"]) for r in cases[key])
    print(f"| {path} | {size} | 1->{fanout} | {k(m['rx_pps'])} | {m['loss']:.1f} | "
          f"{k(m['sent_pps'])} | {cpu} | {cpu_ns} | {ratio(key, vde)} | {vde_taps} | {ratio(key, 'bridge')} | {rounds} |")
for failure in failures:
    print(f"FAILED: {failure}")
sys.exit(1 if failures else 0)
PY
echo
echo "x vde_switch: against vde-hub for hub paths, vde-switch for the others; x vde_switch taps:" \
  "tap paths against vde-tap-hub or vde-tap-switch; switch CPU: the" \
  "ipnfs daemon's or vde_switch's CPU time during the case, per second of sending (100% = one CPU);" \
  "CPU ns per packet: that CPU time over the packets delivered (all receivers together; 10 ms ticks)."
echo
echo "Memory (VmRSS of the daemon, fresh mount, --state=none):"
echo
echo "$memory_table"
echo "| after the traffic above (4 networks, 8 taps, all ports closed) | $traffic_rss | |"
echo
echo "Took $((SECONDS - started)) s after the build."
if ((report_rc != 0)); then
  echo "bench.sh: some cases delivered nothing; see above" >&2
  tail -n 20 "$tmp/clients.log" >&2 || true
  exit 1
fi
