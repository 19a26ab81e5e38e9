# qemulib.sh: QEMU guests and a DHCP server on ipnfs networks, for qemu_test.sh and
# scripts/bench_qemu.sh (bash; source after testlib.sh, use inside a case).
#
# The DHCP server side: a kernel tap joined to the network inside a network namespace of the case
# (new_netns), carrying dnsmasq. The tap comes from the daemon (`setfattr -n user.ipn.tap`) when it
# supports that, else from a cable `vde_plug ipn://NETFILE tap://NAME` run inside the namespace.
# IPNFS_TEST_TAP=cable forces the cable. Guests are QEMU (TCG) booting iPXE from the NIC's ROM,
# with the serial console in $CASE_DIR/GUEST.serial.

# tap_for_network NETFILE TAPNAME: a tap TAPNAME in $NETNS joined to NETFILE, up.
tap_for_network() {
  local netfile="$1" tap="$2"
  if [[ "${IPNFS_TEST_TAP:-}" != cable ]] &&
    setfattr -n user.ipn.tap -v "$tap" "$netfile" 2>"$CASE_DIR/setfattr-tap.log"; then
    step "tap $tap from the daemon (user.ipn.tap), moved into $NETNS"
    ip link set dev "$tap" netns "$NETNS" || die "ip link set $tap netns $NETNS"
  else
    step "tap $tap from a cable: vde_plug ipn://$netfile tap://$tap"
    spawn "cable-$tap" in_netns vde_plug "ipn://$netfile" "tap://$tap"
    wait_for 10 "the tap $tap" in_netns ip link show dev "$tap"
  fi
  in_netns ip link set dev "$tap" up
}

# dnsmasq_on_tap SUBNET [DNSMASQ_OPTIONS...]: gives $TAP (in $NETNS) SUBNET.1/24 (SUBNET like
# 10.78.3) and runs dnsmasq there, handing out SUBNET.10-50.
dnsmasq_on_tap() {
  local subnet="$1"
  shift
  in_netns ip addr add "$subnet.1/24" dev "$TAP"
  spawn dnsmasq in_netns dnsmasq --no-ping --no-daemon --port=0 --conf-file=/dev/null \
    --interface="$TAP" --bind-interfaces --dhcp-range="$subnet.10,$subnet.50,255.255.255.0" \
    --dhcp-leasefile="$CASE_DIR/leases" --pid-file="$CASE_DIR/dnsmasq.pid" "$@"
  wait_for 10 "dnsmasq to listen" grep -q 'sockets bound exclusively' "$CASE_DIR/dnsmasq.err"
}

# dhcp_server NETFILE SUBNET [DNSMASQ_OPTIONS...]: in a new namespace, a tap on NETFILE and
# dnsmasq on it (dnsmasq_on_tap). Sets NETNS and TAP.
dhcp_server() {
  local netfile="$1"
  shift
  new_netns
  TAP="ipd${1##*.}x$$"  # Unique on the host too (a daemon-made tap starts there).
  tap_for_network "$netfile" "$TAP"
  dnsmasq_on_tap "$@"
}

# boot_guest NAME QEMU_ARGS...: starts a TCG guest in $NETNS that network-boots (iPXE), with its
# serial console in $CASE_DIR/NAME.serial and QEMU's stderr in $CASE_DIR/NAME.err.
# Redirections on the call (3<>NETFILE) reach QEMU.
boot_guest() {
  local name="$1"
  shift
  spawn "$name" in_netns qemu-system-x86_64 -machine accel=tcg -m 256 -nographic -vga none \
    -monitor none -serial "file:$CASE_DIR/$name.serial" -nic none -boot n "$@"
}

# lease_of NAME: the guest's IPv4 lease as iPXE printed it ("net0: 10.78.1.41/255.255.255.0").
lease_of() { tr -d '\r' <"$CASE_DIR/$1.serial" 2>/dev/null | grep -ao 'net0: [0-9.]*/[0-9.]*' | head -n 1; }

# expect_lease NAME SECONDS: waits for the guest's lease line; prints it.
expect_lease() {
  wait_for "$2" "a DHCP lease line from guest $1" lease_of "$1"
  lease_of "$1"
}

# qemu_stderr_is_clean NAME: QEMU printed nothing but the known TUNSETOFFLOAD warning (and its
# own note when it was stopped).
qemu_stderr_is_clean() {
  local other
  other="$(grep -v -e '^TUNSETOFFLOAD ioctl() failed: Bad address$' \
    -e 'terminating on signal' "$CASE_DIR/$1.err" || true)"
  [[ -z "$other" ]] || die "QEMU ($1) printed: $other"
}
