#!/usr/bin/env bash
# End-to-end tests with QEMU (TCG): a guest's NIC on an ipnfs network, through `-netdev tap,fd=`,
# `-netdev vde,sock=ipn://`, and QMP getfd + netdev_add (libvirt's way), gets a DHCP lease from
# dnsmasq on a tap of the same network in a network namespace of the case (see qemulib.sh). The
# guest is iPXE from the NIC's option ROM; its serial console shows the lease. Guests run in
# parallel: the suite takes about a minute on 2 cores.
source "$(dirname "$(realpath "$0")")/testlib.sh"
source "$(dirname "$(realpath "$0")")/qemulib.sh"

LEASE_SECONDS=90

case_tap_fd_e1000_gets_a_lease() {
  touch "$MNT/e1000"
  dhcp_server "$MNT/e1000" 10.78.1
  boot_guest guest -netdev tap,id=n0,fd=3 -device e1000,netdev=n0 3<>"$MNT/e1000"
  expect_lease guest "$LEASE_SECONDS"
  qemu_stderr_is_clean guest
}

case_tap_fd_virtio_gets_a_lease() {
  touch "$MNT/virtio"
  dhcp_server "$MNT/virtio" 10.78.2
  boot_guest guest -netdev tap,id=n0,fd=3 -device virtio-net-pci,netdev=n0 3<>"$MNT/virtio"
  expect_lease guest "$LEASE_SECONDS"
  qemu_stderr_is_clean guest
}

# The plugin's framed I/O (the default) and its plain fallback (the `unframed` option, what a
# daemon without IPNFS_IOC_FRAMED gets), side by side on one network.
case_vde_netdev_gets_a_lease() {
  touch "$MNT/vde"
  dhcp_server "$MNT/vde" 10.78.3
  boot_guest framed -netdev "vde,id=n0,sock=ipn://$MNT/vde" \
    -device e1000,netdev=n0,mac=52:54:00:78:03:01
  boot_guest unframed -netdev "vde,id=n0,sock=ipn://$MNT/vde[unframed]" \
    -device virtio-net-pci,netdev=n0,mac=52:54:00:78:03:02
  local framed unframed
  framed="$(expect_lease framed "$LEASE_SECONDS")"
  unframed="$(expect_lease unframed "$LEASE_SECONDS")"
  step "framed: $framed; unframed: $unframed"
  [[ "$framed" != "$unframed" ]] || die "both guests got $framed"
  qemu_stderr_is_clean framed
  qemu_stderr_is_clean unframed
}

case_qmp_getfd_netdev_add_gets_a_lease() {
  touch "$MNT/qmp"
  dhcp_server "$MNT/qmp" 10.78.4
  # -S: nothing runs until the NIC is in place; then `cont`.
  boot_guest guest -S -qmp "unix:$CASE_DIR/qmp.sock,server=on,wait=off"
  wait_for 10 "the QMP socket" test -S "$CASE_DIR/qmp.sock"
  timeout 30 python3 "$NETCLIENT" qmp-add-tap "$CASE_DIR/qmp.sock" "$MNT/qmp" virtio-net-pci
  expect_lease guest "$LEASE_SECONDS"
  qemu_stderr_is_clean guest
}

case_two_guests_on_one_network_get_distinct_leases() {
  touch "$MNT/shared"
  # The switch policy when the daemon has it, else the default hub.
  setfattr -n user.ipn.policy -v switch "$MNT/shared" || step "no switch policy: hub"
  dhcp_server "$MNT/shared" 10.78.5
  boot_guest one -netdev tap,id=n0,fd=3 -device virtio-net-pci,netdev=n0,mac=52:54:00:78:05:01 \
    3<>"$MNT/shared"
  boot_guest two -netdev "vde,id=n0,sock=ipn://$MNT/shared" \
    -device e1000,netdev=n0,mac=52:54:00:78:05:02
  local one two
  one="$(expect_lease one "$LEASE_SECONDS")"
  two="$(expect_lease two "$LEASE_SECONDS")"
  step "one: $one; two: $two"
  [[ "$one" != "$two" ]] || die "both guests got $one"
}

case_unknown_tap_ioctl_gets_enotty() {
  touch "$MNT/ioctl"
  local got
  got="$(timeout 10 python3 "$NETCLIENT" ioctl-tunsetiff "$MNT/ioctl")"
  [[ "$got" == ENOTTY ]] || die "TUNSETIFF on a network file: $got, expected ENOTTY"
}

# run_as_nobody COMMAND...: COMMAND as nobody:nogroup without supplementary groups.
run_as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

case_qemu_on_a_network_nobody_may_only_read_fails_with_eacces() {
  touch "$MNT/readonly"
  chmod 0644 "$MNT/readonly"
  local rc=0
  # -netdev vde: QEMU opens the network itself.
  run_as_nobody env VDEPLUGIN_PATH="$VDEPLUGIN_PATH" timeout 20 qemu-system-x86_64 \
    -machine accel=tcg -nographic -vga none -monitor none -serial none -nic none \
    -netdev "vde,id=n0,sock=ipn://$MNT/readonly" -device e1000,netdev=n0 \
    >"$CASE_DIR/vde.out" 2>&1 || rc=$?
  cat "$CASE_DIR/vde.out" >&2
  ((rc != 0 && rc != 124)) || die "QEMU (vde) as nobody: exit $rc, expected a failure"
  grep -qF "sock=ipn://$MNT/readonly: Could not open vde: Permission denied" "$CASE_DIR/vde.out" ||
    die "QEMU (vde) did not say Permission denied"
  # -netdev tap,fd=: the caller opens the network, and that open fails.
  rc=0
  run_as_nobody timeout 20 bash -c 'exec qemu-system-x86_64 -machine accel=tcg -nographic \
    -vga none -monitor none -serial none -nic none -netdev tap,id=n0,fd=3 \
    -device e1000,netdev=n0 3<>"$1"' bash "$MNT/readonly" >"$CASE_DIR/fd.out" 2>&1 || rc=$?
  cat "$CASE_DIR/fd.out" >&2
  ((rc != 0 && rc != 124)) || die "QEMU (tap,fd) as nobody: exit $rc, expected a failure"
  grep -qF "$MNT/readonly: Permission denied" "$CASE_DIR/fd.out" ||
    die "opening the network for QEMU did not say Permission denied"
}

testlib_setup "$@"
run_cases_parallel 150 \
  case_tap_fd_e1000_gets_a_lease \
  "A guest with -netdev tap,fd=3 3<>NETWORK and an e1000 NIC gets a DHCP lease" \
  case_tap_fd_virtio_gets_a_lease \
  "A guest with -netdev tap,fd=3 3<>NETWORK and a virtio-net-pci NIC gets a DHCP lease" \
  case_vde_netdev_gets_a_lease \
  "Guests with -netdev vde,sock=ipn://NETWORK (e1000) and ipn://NETWORK[unframed] (virtio-net-pci) get DHCP leases" \
  case_qmp_getfd_netdev_add_gets_a_lease \
  "A guest whose NIC is added over QMP (getfd over SCM_RIGHTS, netdev_add tap, device_add) gets a DHCP lease" \
  case_two_guests_on_one_network_get_distinct_leases \
  "Two guests on one network get distinct DHCP leases"
run_case 30 case_unknown_tap_ioctl_gets_enotty \
  "An unknown tap ioctl (TUNSETIFF) on a network file fails with ENOTTY"
run_case 60 case_qemu_on_a_network_nobody_may_only_read_fails_with_eacces \
  "QEMU as nobody on a network it may only read fails with Permission denied"
testlib_finish
