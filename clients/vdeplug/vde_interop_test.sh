#!/usr/bin/env bash
# Integration test of libvdeplug_ipn.so with Debian's VDE tools: vde_plug streams, a cable to a
# vde_switch, a dpipe cable between two networks, and the errors a user sees. The daemon is
# mounted on a temporary directory; see testlib.sh.
source "$(dirname "$(realpath "$0")")/testlib.sh"

nc() { timeout 20 python3 "$NETCLIENT" "$@"; }

# joined_by COMM NETFILE: succeeds when a process named COMM has a port on NETFILE.
joined_by() { getfattr --absolute-names --only-values -n user.ipn.ports "$2" 2>/dev/null | grep -q "comm=$1 "; }

# A VDE switch on $CASE_DIR/sw with a vde_plug client whose stdin is the fifo on fd 7 and whose
# stdout is $CASE_DIR/client.out; and the cable `vde_plug ipn://$MNT/net0 vde://switch`.
start_switch_with_client_and_cable() {
  touch "$MNT/net0"
  mkfifo "$CASE_DIR/switch.in"  # vde_switch in the foreground quits at EOF on stdin.
  exec 6<>"$CASE_DIR/switch.in"
  spawn switch vde_switch -s "$CASE_DIR/sw" <&6
  wait_for 5 "the switch's control socket" test -S "$CASE_DIR/sw/ctl"
  mkfifo "$CASE_DIR/client.in"
  exec 7<>"$CASE_DIR/client.in"
  spawn client vde_plug "vde://$CASE_DIR/sw" <&7
  spawn cable vde_plug "ipn://$MNT/net0" "vde://$CASE_DIR/sw"
  wait_for 5 "the cable to join net0" joined_by vde_plug "$MNT/net0"
}

case_frame_into_network_reaches_vde_client() {
  start_switch_with_client_and_cable
  # The first frames may reach the switch before it has every port: keep sending for a while.
  spawn sender timeout 30 python3 "$NETCLIENT" send "$MNT/net0" "to-vde-$$" 200 0.1
  nc expect-stream "$CASE_DIR/client.out" "to-vde-$$" 15 ||
    die "the VDE client never received the frame written into net0"
}

case_frame_from_vde_client_comes_out_of_network() {
  start_switch_with_client_and_cable
  spawn reader timeout 20 python3 "$NETCLIENT" expect "$MNT/net0" "from-vde-$$" 15
  local reader=$SPAWNED
  wait_for 5 "the reader to join" grep -q joined "$CASE_DIR/reader.out"
  python3 "$NETCLIENT" frame "from-vde-$$" --stream >"$CASE_DIR/frame"
  for i in $(seq 100); do
    cat "$CASE_DIR/frame" >&7
    kill -0 "$reader" 2>/dev/null || break
    sleep 0.1
  done
  wait "$reader" || die "net0 never delivered the frame the VDE client sent"
}

case_vde_plug_stream_carries_frames_both_ways() {
  touch "$MNT/net0"
  mkfifo "$CASE_DIR/in"
  exec 7<>"$CASE_DIR/in"
  spawn stream vde_plug "ipn://$MNT/net0" <&7
  wait_for 5 "vde_plug to join net0" joined_by vde_plug "$MNT/net0"
  nc send "$MNT/net0" "out-$$"
  nc expect-stream "$CASE_DIR/stream.out" "out-$$" 5 >/dev/null
  spawn reader timeout 20 python3 "$NETCLIENT" expect "$MNT/net0" "in-$$" 10
  local reader=$SPAWNED
  wait_for 5 "the reader to join" grep -q joined "$CASE_DIR/reader.out"
  python3 "$NETCLIENT" frame "in-$$" --stream >&7
  wait "$reader" || die "net0 never delivered the frame written to vde_plug's stdin"
}

case_dpipe_cable_joins_two_networks() {
  touch "$MNT/a" "$MNT/b"
  spawn dpipe dpipe vde_plug "ipn://$MNT/a" = vde_plug "ipn://$MNT/b"
  wait_for 5 "the cable to join a" joined_by vde_plug "$MNT/a"
  wait_for 5 "the cable to join b" joined_by vde_plug "$MNT/b"
  spawn reader-b timeout 20 python3 "$NETCLIENT" expect "$MNT/b" "a-to-b-$$" 10
  local reader=$SPAWNED
  wait_for 5 "the reader on b to join" grep -q joined "$CASE_DIR/reader-b.out"
  nc send "$MNT/a" "a-to-b-$$"
  wait "$reader" || die "a frame sent on a did not come out of b"
  spawn reader-a timeout 20 python3 "$NETCLIENT" expect "$MNT/a" "b-to-a-$$" 10
  reader=$SPAWNED
  wait_for 5 "the reader on a to join" grep -q joined "$CASE_DIR/reader-a.out"
  nc send "$MNT/b" "b-to-a-$$"
  wait "$reader" || die "a frame sent on b did not come out of a"
}

# Frames per burst: with 60-byte frames, several full framed reads of the plugin.
BURST=5000
# Through vde_switch, whose unix datagram sockets hold 10 frames (net.unix.max_dgram_qlen) and
# whose ports drop what does not fit: 1000 frames in bursts of 4, 5 ms apart.
BURST_VDE=(1000 4 0.005)

# roomy NETFILE...: creates the networks with queues that hold a whole burst, so that nothing is
# dropped however the reader is scheduled.
roomy() {
  local net
  for net in "$@"; do
    touch "$net"
    setfattr -n user.ipn.qlen -v 65536 "$net"
  done
}

case_burst_reaches_vde_plug_stream_complete_and_in_order() {
  roomy "$MNT/net0"
  mkfifo "$CASE_DIR/in"
  exec 7<>"$CASE_DIR/in"
  spawn stream vde_plug "ipn://$MNT/net0" <&7
  wait_for 5 "vde_plug to join net0" joined_by vde_plug "$MNT/net0"
  nc burst "$MNT/net0" "burst-$$" "$BURST"
  nc expect-stream-burst "$CASE_DIR/stream.out" "burst-$$" "$BURST" 15 >/dev/null
}

case_burst_reaches_libvdeplug_callers_polling_level_or_edge_triggered() {
  roomy "$MNT/net0"
  local -a readers=()
  local how
  for how in level edge unframed; do
    local url="ipn://$MNT/net0" trigger=$how
    [[ "$how" != unframed ]] || url="ipn://$MNT/net0[unframed]" trigger=level
    spawn "$how" timeout 30 python3 "$NETCLIENT" vde-burst "$url" "burst-$$" "$BURST" 20 "$trigger"
    readers+=("$SPAWNED:$how")
    wait_for 5 "the $how reader to join" grep -q joined "$CASE_DIR/$how.out"
  done
  nc burst "$MNT/net0" "burst-$$" "$BURST"
  local reader
  for reader in "${readers[@]}"; do
    wait "${reader%%:*}" || die "the ${reader#*:} libvdeplug reader did not get the burst whole"
  done
}

case_burst_crosses_dpipe_cable_complete_and_in_order() {
  roomy "$MNT/a" "$MNT/b"
  spawn dpipe dpipe vde_plug "ipn://$MNT/a" = vde_plug "ipn://$MNT/b"
  wait_for 5 "the cable to join a" joined_by vde_plug "$MNT/a"
  wait_for 5 "the cable to join b" joined_by vde_plug "$MNT/b"
  spawn reader timeout 30 python3 "$NETCLIENT" expect-burst "$MNT/b" "burst-$$" "$BURST" 20
  local reader=$SPAWNED
  wait_for 5 "the reader on b to join" grep -q joined "$CASE_DIR/reader.out"
  nc burst "$MNT/a" "burst-$$" "$BURST"
  wait "$reader" || die "the burst sent on a did not come out of b whole and in order"
}

case_burst_crosses_cable_to_vde_switch_both_ways() {
  start_switch_with_client_and_cable
  setfattr -n user.ipn.qlen -v 65536 "$MNT/net0"
  # The switch floods until it has learned the client: let one frame through first.
  spawn sender timeout 30 python3 "$NETCLIENT" send "$MNT/net0" "warm-up-$$" 200 0.1
  local sender=$SPAWNED
  nc expect-stream "$CASE_DIR/client.out" "warm-up-$$" 15 >/dev/null ||
    die "the VDE client never received a frame written into net0"
  kill "$sender"
  nc burst "$MNT/net0" "in-$$" "${BURST_VDE[@]}"
  nc expect-stream-burst "$CASE_DIR/client.out" "in-$$" "${BURST_VDE[0]}" 15 >/dev/null ||
    die "the burst written into net0 did not reach the VDE client whole and in order"
  spawn reader timeout 30 python3 "$NETCLIENT" expect-burst "$MNT/net0" "out-$$" "${BURST_VDE[0]}" 20
  local reader=$SPAWNED
  wait_for 5 "the reader to join" grep -q joined "$CASE_DIR/reader.out"
  nc stream-burst "out-$$" "${BURST_VDE[@]}" >&7
  wait "$reader" || die "the burst the VDE client sent did not come out of net0 whole and in order"
}

case_send_waits_for_room_with_flow_block() {
  touch "$MNT/net0"
  setfattr -n user.ipn.flow -v block "$MNT/net0"
  setfattr -n user.ipn.qlen -v 1 "$MNT/net0"
  setfattr -n user.ipn.stall_ms -v 60000 "$MNT/net0"  # The slow reader is not skipped.
  mkfifo "$CASE_DIR/in"
  exec 7<>"$CASE_DIR/in"
  spawn stream vde_plug "ipn://$MNT/net0" <&7
  wait_for 5 "vde_plug to join net0" joined_by vde_plug "$MNT/net0"
  # A reader that holds one packet, then reads the rest 2 s later: vde_plug's sends must wait.
  spawn reader timeout 30 python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
print("joined", flush=True)
time.sleep(2)
for i in range(3):
    packet = os.read(fd, 65536)
    print(packet[14:30].split(b"\0")[0].decode(), flush=True)
' "$MNT/net0"
  local reader=$SPAWNED
  wait_for 5 "the reader to join" grep -q joined "$CASE_DIR/reader.out"
  nc stream-burst "blk-$$" 3 >&7
  wait "$reader" || die "the reader did not get 3 packets"
  local got
  got="$(tail -n 3 "$CASE_DIR/reader.out" | tr '\n' ' ')"
  [[ "$got" == "blk-$$:000000 blk-$$:000001 blk-$$:000002 " ]] || die "the reader got: $got"
}

# expect_failure PATTERN COMMAND...: COMMAND exits non-zero within 10 s, printing PATTERN.
expect_failure() {
  local pattern="$1" rc=0
  shift
  timeout 10 "$@" >"$CASE_DIR/out.log" 2>&1 || rc=$?
  cat "$CASE_DIR/out.log" >&2
  ((rc != 0 && rc != 124)) || die "expected a failure, got exit $rc"
  grep -qF "$pattern" "$CASE_DIR/out.log" || die "expected '$pattern' in the message"
}

case_missing_network_fails_with_enoent() {
  expect_failure "vde_open ipn://$MNT/missing: No such file or directory" \
    vde_plug "ipn://$MNT/missing"
}

case_network_nobody_may_not_write_fails_with_eacces() {
  touch "$MNT/readonly"
  chmod 0644 "$MNT/readonly"
  expect_failure "vde_open ipn://$MNT/readonly: Permission denied" \
    setpriv --reuid=nobody --regid=nogroup --clear-groups vde_plug "ipn://$MNT/readonly"
}

case_file_that_is_not_a_network_fails_with_enotsup() {
  echo hello >"$CASE_DIR/plain"
  expect_failure "Operation not supported" vde_plug "ipn://$CASE_DIR/plain"
  expect_failure "Is a directory" vde_plug "ipn://$MNT"
}

case_unknown_option_fails_with_einval() {
  touch "$MNT/net0"
  expect_failure "Invalid argument" vde_plug "ipn://$MNT/net0[colour=blue]"
  expect_failure "Invalid argument" vde_plug --port 3 "ipn://$MNT/net0"
}

case_create_option_makes_the_network_with_mode_and_group() {
  mkfifo "$CASE_DIR/in"
  exec 7<>"$CASE_DIR/in"
  spawn plug vde_plug "ipn://$MNT/lab-net[create/mode=640/group=nogroup]" <&7
  wait_for 5 "vde_plug to create and join lab-net" joined_by vde_plug "$MNT/lab-net"
  local got
  got="$(stat -c '%a %G' "$MNT/lab-net")"
  [[ "$got" == "640 nogroup" ]] || die "lab-net is '$got', expected '640 nogroup'"
}

testlib_setup "$@"
run_case 60 case_frame_into_network_reaches_vde_client \
  "A frame written into the network reaches a vde_plug client of a vde_switch through the cable"
run_case 60 case_frame_from_vde_client_comes_out_of_network \
  "A frame sent by a vde_plug client of a vde_switch comes out of the network through the cable"
run_case 60 case_vde_plug_stream_carries_frames_both_ways \
  "vde_plug ipn:// alone is a stdin/stdout stream with 2-byte length framing, both ways"
run_case 60 case_dpipe_cable_joins_two_networks \
  "dpipe vde_plug ipn://a = vde_plug ipn://b carries frames between two networks"
run_case 60 case_burst_reaches_vde_plug_stream_complete_and_in_order \
  "A burst of $BURST frames written into the network comes out of vde_plug ipn:// whole and in order"
run_case 60 case_burst_reaches_libvdeplug_callers_polling_level_or_edge_triggered \
  "A burst reaches libvdeplug callers that recv once per readiness of the data fd (poll, edge-triggered epoll, unframed) whole and in order"
run_case 60 case_burst_crosses_dpipe_cable_complete_and_in_order \
  "A burst crosses a dpipe cable between two networks whole and in order"
run_case 60 case_burst_crosses_cable_to_vde_switch_both_ways \
  "A burst crosses a vde_plug cable to a vde_switch whole and in order, both ways"
run_case 30 case_send_waits_for_room_with_flow_block \
  "With user.ipn.flow=block, vde_plug ipn:// waits for room instead of dropping frames"
run_case 30 case_missing_network_fails_with_enoent \
  "vde_plug on a missing network fails with No such file or directory"
run_case 30 case_network_nobody_may_not_write_fails_with_eacces \
  "vde_plug as nobody on a 0644 network of root fails with Permission denied"
run_case 30 case_file_that_is_not_a_network_fails_with_enotsup \
  "vde_plug on a file outside ipnfs or on a directory fails with a clear error"
run_case 30 case_unknown_option_fails_with_einval \
  "vde_plug with an unknown option or a switch port number fails with Invalid argument"
run_case 30 case_create_option_makes_the_network_with_mode_and_group \
  "The create option makes a missing network with the given mode and group"
testlib_finish
