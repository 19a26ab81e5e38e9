#!/usr/bin/env bash
# Benchmark (not a test): bulk TCP throughput between a QEMU guest (TCG) and the host side of its
# network, side by side on six paths (the guest downloads, so the bulk data flows host -> guest
# and the guest's ACKs flow back):
#   tap,fd  -netdev tap,fd=3 3<>NETWORK          (ipnfs network file as QEMU's tap fd)
#   vde     -netdev vde,sock=ipn://NETWORK        (libvdeplug_ipn.so: framed I/O, batched reads)
#   vde-1   -netdev vde,sock=ipn://NETWORK[unframed]  (the same, one read(2) per packet)
#   stream  -netdev stream,addr.path=MNT/.stream/NET  (the network's socket face, issue 14: QEMU's
#           own stream backend, each packet after its 4-byte big-endian length)
#   ktap    -netdev tap,ifname=TAP                (a plain kernel tap: the baseline)
#   vdesw   -netdev vde,sock=SWITCHDIR            (the VDE peer: stock libvdeplug to a vde_switch)
# The guest is iPXE from the NIC's ROM. dnsmasq hands it an iPXE script over DHCP (boot file
# http://SUBNET.1/bench.ipxe) that fetches a 16 MiB blob over HTTP from a Python server on the
# host side 5 times, then /done. Throughput of one download = blob size / (time of the next GET -
# time of its GET), measured by the server. For the ipnfs paths the server side is a tap joined to
# the network (user.ipn.tap when the daemon has it, else a `vde_plug ipn:// tap://` cable); for
# vdesw it is the switch's own tap (`vde_switch --tap`). Each run is in its own network namespace
# (10.78.x.0/24). Runs are sequential: they do not share CPUs.
#
# Usage: scripts/bench_qemu.sh              (as root; builds //fs:ipnfs and the plugin with -c opt)
#   BENCH_NICS="virtio-net-pci e1000"  NIC models to run (default: both)
#   BENCH_PATHS="tap,fd vde vde-1 stream ktap vdesw"  paths to run (default: all)
#   BENCH_MIB=16                       blob size in MiB
#   BENCH_FETCHES=5                    downloads of the blob per guest boot
# Prints a table: path, NIC, median / min / max MB/s (10^6 bytes per second) over the downloads,
# and the median against the kernel tap's with the same NIC (when ktap ran).
set -uo pipefail

cd "$(dirname "$0")/.."
repo="$PWD"

if [[ -z "${IPNFS_BIN:-}" || -z "${IPNFS_VDEPLUG_DIR:-}" ]]; then
  # No bazel-* links: the workspace's keep pointing at the everyday build.
  bazel build -c opt --experimental_convenience_symlinks=ignore //fs:ipnfs \
    //clients/vdeplug:libvdeplug_ipn.so >&2 || exit 1
  bin="$(bazel info -c opt bazel-bin 2>/dev/null)"
  export IPNFS_BIN="$bin/fs/ipnfs" IPNFS_VDEPLUG_DIR="$bin/clients/vdeplug"
fi
export BENCH_MIB="${BENCH_MIB:-16}" BENCH_FETCHES="${BENCH_FETCHES:-5}"
source "$repo/clients/vdeplug/testlib.sh"
source "$repo/clients/vdeplug/qemulib.sh"

# The HTTP server: /bench.ipxe (the script), /blob (BENCH_MIB MiB, random), /done. Logs
# "MONOTONIC_SECONDS PATH" for each request as it starts.
write_httpd() {
  cat >"$WORK/httpd.py" <<'PY'
import http.server, os, sys, time
address, log_path, mib, fetches = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
blob = os.urandom(mib << 20)
fetch = f"imgfetch --name blob http://{address}/blob || echo BENCH-FAILED\nimgfree blob\n"
script = (f"#!ipxe\necho BENCH-START\n{fetch * fetches}"
          f"imgfetch http://{address}/done || echo BENCH-FAILED\necho BENCH-DONE\n").encode()
log = open(log_path, "a", buffering=1)
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        log.write(f"{time.monotonic():.6f} {self.path}\n")
        body = {"/bench.ipxe": script, "/blob": blob, "/done": b"done\n"}.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer((address, 80), Handler).serve_forever()
PY
}

# serve_and_boot SUBNET GUEST_ARGS...: HTTP server on SUBNET.1 in $NETNS, then the guest; waits
# for the script to finish and records the result for $BENCH_PATH.
serve_and_boot() {
  local subnet="$1"
  shift
  spawn httpd in_netns python3 "$WORK/httpd.py" "$subnet.1" "$CASE_DIR/http.log" "$BENCH_MIB" \
    "$BENCH_FETCHES"
  wait_for 30 "the HTTP server" in_netns bash -c "exec 3<>/dev/tcp/$subnet.1/80"
  boot_guest guest "$@"
  wait_for 300 "the guest's script to finish" grep -aq 'BENCH-DONE' "$CASE_DIR/guest.serial"
  ! grep -aq 'BENCH-FAILED' "$CASE_DIR/guest.serial" || die "iPXE could not fetch the blob"
  # One transfer = from its GET /blob to the next request (the next /blob, or /done).
  awk -v path="$BENCH_PATH" -v nic="$BENCH_NIC" -v mib="$BENCH_MIB" '
    { t[n++] = $1 }
    END {
      if (n < 2) { print "no transfers logged" > "/dev/stderr"; exit 1 }
      for (i = 0; i < n - 1; i++) r[i] = mib * 1048576 / (t[i + 1] - t[i]) / 1e6
      m = n - 1
      for (i = 0; i < m; i++)
        for (j = i + 1; j < m; j++)
          if (r[j] < r[i]) { x = r[i]; r[i] = r[j]; r[j] = x }
      median = m % 2 ? r[int(m / 2)] : (r[m / 2 - 1] + r[m / 2]) / 2
      printf "%-8s %-16s %9.2f %9.2f %9.2f %3d\n", path, nic, median, r[0], r[m - 1], m
    }' < <(grep -E ' /(blob|done)$' "$CASE_DIR/http.log") | tee -a "$WORK/results"
  [[ "${PIPESTATUS[0]}" == 0 ]] || die "the server did not log the transfers"
}

dnsmasq_boot_options() { echo "--dhcp-boot=http://$1.1/bench.ipxe"; }

bench_tap_fd() {
  local subnet=10.78.11
  touch "$MNT/bench"
  dhcp_server "$MNT/bench" "$subnet" "$(dnsmasq_boot_options "$subnet")"
  serve_and_boot "$subnet" -netdev tap,id=n0,fd=3 -device "$BENCH_NIC,netdev=n0" 3<>"$MNT/bench"
}

bench_vde() {
  local subnet=10.78.12
  touch "$MNT/bench"
  dhcp_server "$MNT/bench" "$subnet" "$(dnsmasq_boot_options "$subnet")"
  serve_and_boot "$subnet" -netdev "vde,id=n0,sock=ipn://$MNT/bench" -device "$BENCH_NIC,netdev=n0"
}

bench_vde_unframed() {
  local subnet=10.78.14
  touch "$MNT/bench"
  dhcp_server "$MNT/bench" "$subnet" "$(dnsmasq_boot_options "$subnet")"
  serve_and_boot "$subnet" -netdev "vde,id=n0,sock=ipn://$MNT/bench[unframed]" \
    -device "$BENCH_NIC,netdev=n0"
}

# The network's stream socket face, with QEMU's stream backend as the client (QEMU 7.2+).
bench_stream() {
  local subnet=10.78.16
  touch "$MNT/bench"
  test -S "$MNT/.stream/bench" || die "no socket face $MNT/.stream/bench"
  dhcp_server "$MNT/bench" "$subnet" "$(dnsmasq_boot_options "$subnet")"
  serve_and_boot "$subnet" \
    -netdev "stream,id=n0,server=off,addr.type=unix,addr.path=$MNT/.stream/bench" \
    -device "$BENCH_NIC,netdev=n0"
}

bench_kernel_tap() {
  local subnet=10.78.13
  new_netns
  TAP=ktap0
  in_netns ip tuntap add dev "$TAP" mode tap
  in_netns ip link set dev "$TAP" up
  dnsmasq_on_tap "$subnet" "$(dnsmasq_boot_options "$subnet")"
  serve_and_boot "$subnet" -netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no" \
    -device "$BENCH_NIC,netdev=n0"
}

# The VDE ecosystem on its own: QEMU's vde backend with the stock libvdeplug (vde://) to a
# vde_switch whose host side is a kernel tap it opens in the case's namespace (--tap).
bench_vde_switch() {
  local subnet=10.78.15 switch_dir="$CASE_DIR/switch"
  new_netns
  TAP=vdesw0
  # In the foreground vde_switch reads commands from stdin and exits at its end of file: a FIFO
  # it holds open for writing too never ends. The switch removes its directory and tap on TERM.
  mkfifo "$CASE_DIR/switch.console"
  spawn vde_switch in_netns vde_switch --sock "$switch_dir" --tap "$TAP" \
    <>"$CASE_DIR/switch.console"
  wait_for 10 "vde_switch's socket" test -S "$switch_dir/ctl"
  wait_for 10 "vde_switch's tap $TAP" in_netns ip link show dev "$TAP"
  in_netns ip link set dev "$TAP" up
  dnsmasq_on_tap "$subnet" "$(dnsmasq_boot_options "$subnet")"
  serve_and_boot "$subnet" -netdev "vde,id=n0,sock=$switch_dir" -device "$BENCH_NIC,netdev=n0"
}

testlib_setup "$@"
write_httpd
: >"$WORK/results"
# Each case: path, then the function that runs it, then its description.
cases=("tap,fd bench_tap_fd tap,fd" "vde bench_vde vde" "vde-1 bench_vde_unframed vde (unframed)"
  "stream bench_stream stream socket face" "ktap bench_kernel_tap kernel tap"
  "vdesw bench_vde_switch vde_switch")
for nic in ${BENCH_NICS:-virtio-net-pci e1000}; do
  export BENCH_NIC="$nic"
  for case in "${cases[@]}"; do
    read -r path function description <<<"$case"
    [[ " ${BENCH_PATHS:-$path} " == *" $path "* ]] || continue
    export BENCH_PATH="$path"
    run_case 400 "$function" "$description with $nic"
  done
done
echo
echo "HTTP download of $BENCH_MIB MiB by iPXE in a TCG guest, $BENCH_FETCHES times per path,"
echo "timed by the server; MB/s = 10^6 bytes per second:"
printf '%-8s %-16s %9s %9s %9s %3s %7s\n' path nic median min max n 'x ktap'
# The ratio column: each median over the kernel tap's median with the same NIC.
awk '{ row[NR] = $0; nic[NR] = $2; median[NR] = $3
       if ($1 == "ktap") ktap[$2] = $3 }
     END { for (i = 1; i <= NR; i++) {
             ratio = "-"
             if ((nic[i] in ktap) && ktap[nic[i]] > 0)
               ratio = sprintf("%.2fx", median[i] / ktap[nic[i]])
             printf "%s %7s\n", row[i], ratio } }' "$WORK/results"
testlib_finish
