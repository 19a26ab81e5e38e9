#!/usr/bin/env bash
# End-to-end tests of the stream face with QEMU (TCG): a guest whose NIC is
# `-netdev stream,server=off,addr.type=unix,addr.path=MNT/.stream/NETWORK` (QEMU's own framing:
# a 4-byte big-endian length before each packet) gets a DHCP lease from dnsmasq on a tap of the
# same network in a network namespace of the case (clients/vdeplug/qemulib.sh), with an e1000 and
# with a virtio-net-pci NIC. The guest is iPXE from the NIC's option ROM; its serial console shows
# the lease, and dnsmasq's lease file has the guest's MAC. The guests boot in parallel.
#
# Installs what it needs when it is missing (scripts/deps.sh test): qemu-system-x86, ipxe-qemu,
# dnsmasq-base, iproute2.
repo="$(cd "$(dirname "$(realpath "$0")")/../.." && pwd)"
if [[ "${1:-}" != --case ]]; then
  bash "$repo/scripts/deps.sh" test >&2 || { echo "scripts/deps.sh test failed" >&2; exit 1; }
fi
source "$repo/clients/vdeplug/testlib.sh"
source "$repo/clients/vdeplug/qemulib.sh"

LEASE_SECONDS=100

# stream_guest_gets_a_lease NETWORK SUBNET NIC MAC: the whole case for one NIC model.
stream_guest_gets_a_lease() {
  local network="$1" subnet="$2" nic="$3" mac="$4"
  touch "$MNT/$network"
  # The socket exists as soon as touch has returned.
  [[ -S "$MNT/.stream/$network" ]] || die "no socket $MNT/.stream/$network after touch"
  dhcp_server "$MNT/$network" "$subnet"
  boot_guest guest \
    -netdev "stream,id=n0,server=off,addr.type=unix,addr.path=$MNT/.stream/$network" \
    -device "$nic,netdev=n0,mac=$mac"
  local lease
  lease="$(expect_lease guest "$LEASE_SECONDS")"
  step "lease: $lease"
  [[ "$lease" == "net0: $subnet."* ]] || die "the lease $lease is not from $subnet.0/24"
  wait_for 10 "the lease of $mac in dnsmasq's lease file" grep -qi "$mac" "$CASE_DIR/leases"
  grep -qi "DHCPACK.*$mac" "$CASE_DIR/dnsmasq.err" || die "dnsmasq logged no DHCPACK to $mac"
  # The guest's connection is a port of the network, as QEMU's process.
  getfattr --only-values -n user.ipn.ports "$MNT/$network" | grep -q 'comm=qemu-system-x86' ||
    die "no port of QEMU in user.ipn.ports: $(getfattr --only-values -n user.ipn.ports "$MNT/$network")"
  qemu_stderr_is_clean guest
}

case_stream_e1000_gets_a_lease() {
  stream_guest_gets_a_lease e1000 10.78.21 e1000 52:54:00:78:21:01
}

case_stream_virtio_gets_a_lease() {
  stream_guest_gets_a_lease virtio 10.78.22 virtio-net-pci 52:54:00:78:22:01
}

testlib_setup "$@"
run_cases_parallel 200 \
  case_stream_e1000_gets_a_lease \
  "A guest with -netdev stream on /.stream/NETWORK and an e1000 NIC gets a DHCP lease" \
  case_stream_virtio_gets_a_lease \
  "A guest with -netdev stream on /.stream/NETWORK and a virtio-net-pci NIC gets a DHCP lease"
testlib_finish
