#!/usr/bin/env bash
# Benchmark (not a test): frames per second through the ipn:// libvdeplug plugin, framed I/O (the
# default) against the plain fallback (`[unframed]`), in one run with interleaved rounds:
#   recv    a libvdeplug receiver (bench/blast, vde_recv in a loop) on ipn://NET
#   cable   a dpipe cable `vde_plug ipn://A = vde_plug ipn://B`, received on B in framed I/O
# The sender is bench/blast in framed I/O (64-byte frames, 64 per write) for 2 s; queues hold 4096
# packets. Prints the median frames/s received over the rounds and the framed/unframed ratio.
#
# Usage: scripts/bench_vdeplug.sh [ROUNDS]    (as root; builds with -c opt; default 3 rounds)
set -uo pipefail

cd "$(dirname "$0")/.."
rounds="${1:-3}"
bazel build -c opt --experimental_convenience_symlinks=ignore //fs:ipnfs //bench:blast \
  //clients/vdeplug:libvdeplug_ipn.so >&2 || exit 1
bin="$(bazel info -c opt bazel-bin 2>/dev/null)"

work="$(mktemp -d /tmp/ipnfs-bench-vdeplug.XXXXXX)"
mnt="$work/mnt"
daemon=""
cable=""
cleanup() {
  [[ -z "$cable" ]] || kill "$cable" 2>/dev/null
  mountpoint -q "$mnt" && fusermount3 -u "$mnt"
  [[ -z "$daemon" ]] || wait "$daemon" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$mnt" "$work/vdeplug"
cp "$bin/clients/vdeplug/libvdeplug_ipn.so" "$work/vdeplug/"
export VDEPLUGIN_PATH="$work/vdeplug:/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/vdeplug"
"$bin/fs/ipnfs" --state=none "$mnt" >"$work/ipnfs.log" 2>&1 &
daemon=$!
for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.05; done
mountpoint -q "$mnt" || { cat "$work/ipnfs.log" >&2; exit 1; }
for net in n a b; do
  touch "$mnt/$net"
  setfattr -n user.ipn.qlen -v 4096 "$mnt/$net"
done

# measure RECV_ENDPOINT SEND_NETFILE: prints the frames/s the receiver got over the 2 s send.
measure() {
  timeout 30 "$bin/bench/blast" --role=recv --endpoint="$1" --id=1 --deadline=20 >"$work/recv" &
  local receiver=$!
  for _ in $(seq 100); do grep -q ready "$work/recv" && break; sleep 0.05; done
  timeout 30 "$bin/bench/blast" --role=send --endpoint="framed:$2" --id=0 --seconds=2 \
    --count=1000000000 >/dev/null
  sleep 0.3
  kill -TERM "$receiver"
  wait "$receiver"
  awk '/^received/ { printf "%d\n", $2 / 2 }' "$work/recv"
}

# with_cable OPTIONS COMMAND...: runs COMMAND with a dpipe cable between a and b (OPTIONS: the
# VNL options of both plugs, e.g. "[unframed]").
with_cable() {
  dpipe vde_plug "ipn://$mnt/a$1" = vde_plug "ipn://$mnt/b$1" &
  cable=$!
  sleep 0.5
  "${@:2}"
  kill "$cable"
  wait "$cable" 2>/dev/null
  cable=""
}

: >"$work/results"
for round in $(seq "$rounds"); do
  echo "round $round of $rounds" >&2
  echo "recv-framed $(measure "vde:ipn://$mnt/n" "$mnt/n")" >>"$work/results"
  echo "recv-unframed $(measure "vde:ipn://$mnt/n[unframed]" "$mnt/n")" >>"$work/results"
  echo "cable-framed $(with_cable "" measure "framed:$mnt/b" "$mnt/a")" >>"$work/results"
  echo "cable-unframed $(with_cable "[unframed]" measure "framed:$mnt/b" "$mnt/a")" \
    >>"$work/results"
done

echo "64-byte frames/s received through ipn:// (median of $rounds rounds):"
printf '%-8s %12s %12s %8s\n' path framed unframed ratio
for path in recv cable; do
  f="$(awk -v p="$path-framed" '$1 == p { print $2 }' "$work/results" | sort -n |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
  u="$(awk -v p="$path-unframed" '$1 == p { print $2 }' "$work/results" | sort -n |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
  printf '%-8s %12s %12s %7.1fx\n' "$path" "$f" "$u" "$(awk -v f="$f" -v u="$u" \
    'BEGIN { print (u > 0 ? f / u : 0) }')"
done
