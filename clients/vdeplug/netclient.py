#!/usr/bin/env python3
"""netclient: the small clients the vdeplug and QEMU tests use on ipnfs network files.

Each subcommand does one thing, bounded by a timeout, and exits 0 on success, 1 on failure
(with one line on stderr saying why):
  frame PAYLOAD [--stream]          print an Ethernet broadcast frame carrying PAYLOAD to stdout;
                                    --stream: with vde_plug's 2-byte big-endian length in front
  send NETFILE PAYLOAD [COUNT [INTERVAL]]  write that frame into NETFILE (one packet), COUNT
                                    times (default 1) INTERVAL seconds apart (default 0.1)
  expect NETFILE PAYLOAD SECONDS    join NETFILE, print "joined", then wait for a packet
                                    containing PAYLOAD; print its length
  expect-stream FILE PAYLOAD SECONDS  follow FILE, a vde_plug stdout stream, until a frame
                                    containing PAYLOAD arrives; print its length
  burst NETFILE TAG COUNT [BATCH [INTERVAL]]  write COUNT numbered frames (payload TAG:000000,
                                    TAG:000001, ...) into NETFILE in framed I/O, BATCH frames per
                                    write (64), INTERVAL seconds between writes (0)
  stream-burst TAG COUNT [BATCH [INTERVAL]]  print the same frames to stdout as a vde_plug
                                    stream, BATCH frames at a time, INTERVAL seconds apart
  expect-burst NETFILE TAG COUNT SECONDS  join NETFILE, print "joined", then read until COUNT
                                    frames tagged TAG arrived; fail unless they are 0..COUNT-1 in
                                    order, each once
  expect-stream-burst FILE TAG COUNT SECONDS  the same for a vde_plug stdout stream in FILE
  vde-burst URL TAG COUNT SECONDS level|edge  the same through libvdeplug (vde_open, vde_datafd,
                                    vde_recv), one vde_recv per readiness of the data fd as QEMU
                                    does: `level` polls it with poll(2), `edge` with an
                                    edge-triggered epoll
  ioctl-tunsetiff NETFILE           ioctl(TUNSETIFF) on NETFILE; print the errno name
  qmp-add-tap QMPSOCK NETFILE DEVICE  pass NETFILE's fd to QEMU with QMP getfd, then netdev_add
                                    type=tap,fd=... and device_add DEVICE,netdev=... (libvirt's way)
"""

import array
import ctypes
import errno
import fcntl
import json
import os
import select
import socket
import struct
import sys
import time

ETH_BROADCAST = b"\xff" * 6
SOURCE_MAC = bytes.fromhex("020000aa0001")  # Locally administered.
ETHERTYPE_EXPERIMENTAL = b"\x88\xb5"  # IEEE 802 local experimental ethertype.
TUNSETIFF = 0x400454CA  # _IOW('T', 202, int)
IPNFS_IOC_FRAMED = 0x40046901  # _IOW('i', 0x01, int), include/ipnfs/ipnfs_ioctl.h


def fail(message):
    print(f"netclient: {message}", file=sys.stderr)
    sys.exit(1)


def frame(payload):
    """An Ethernet broadcast frame carrying `payload`, padded to the 60-byte minimum."""
    body = ETH_BROADCAST + SOURCE_MAC + ETHERTYPE_EXPERIMENTAL + payload.encode()
    return body + b"\0" * max(0, 60 - len(body))


def cmd_frame(payload, *flags):
    data = frame(payload)
    if "--stream" in flags:
        data = struct.pack(">H", len(data)) + data
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def cmd_send(netfile, payload, count="1", interval="0.1"):
    fd = os.open(netfile, os.O_WRONLY)
    try:
        for i in range(int(count)):
            if i > 0:
                time.sleep(float(interval))
            os.write(fd, frame(payload))
    finally:
        os.close(fd)


def packets_until(netfile, seconds):
    """Joins NETFILE (prints "joined") and yields the packets it receives for SECONDS."""
    deadline = time.monotonic() + float(seconds)
    fd = os.open(netfile, os.O_RDONLY | os.O_NONBLOCK)
    print("joined", flush=True)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while (left := deadline - time.monotonic()) > 0:
        if not poller.poll(left * 1000):
            continue
        try:
            yield os.read(fd, 65536)
        except BlockingIOError:
            continue


def cmd_expect(netfile, payload, seconds):
    for packet in packets_until(netfile, seconds):
        if payload.encode() in packet:
            print(len(packet), flush=True)
            return
    fail(f"no packet containing {payload!r} on {netfile} within {seconds} s")


def stream_frames(data):
    """Splits vde_plug stream bytes into (frames, rest)."""
    frames = []
    while len(data) >= 2:
        size = struct.unpack(">H", data[:2])[0]
        if len(data) < 2 + size:
            break
        frames.append(data[2 : 2 + size])
        data = data[2 + size :]
    return frames, data


def cmd_expect_stream(path, payload, seconds):
    deadline = time.monotonic() + float(seconds)
    offset, rest = 0, b""
    while time.monotonic() < deadline:
        with open(path, "rb") as f:
            f.seek(offset)
            chunk = f.read()
        offset += len(chunk)
        frames, rest = stream_frames(rest + chunk)
        for packet in frames:
            if payload.encode() in packet:
                print(len(packet), flush=True)
                return
        time.sleep(0.05)
    fail(f"no frame containing {payload!r} in the stream {path} within {seconds} s")


def burst_frames(tag, count):
    """COUNT Ethernet frames carrying TAG:000000, TAG:000001, ..."""
    return [frame(f"{tag}:{i:06d}") for i in range(int(count))]


def cmd_burst(netfile, tag, count, batch="64", interval="0"):
    fd = os.open(netfile, os.O_WRONLY)
    try:
        fcntl.ioctl(fd, IPNFS_IOC_FRAMED, struct.pack("i", 1))
        for i, chunk in enumerate(burst_batches(tag, count, batch)):
            if i > 0:
                time.sleep(float(interval))
            if os.write(fd, chunk) != len(chunk):
                fail("a framed write sent only part of its frames")
    finally:
        os.close(fd)


def burst_batches(tag, count, batch):
    """The burst as vde_plug stream bytes, BATCH frames per chunk."""
    frames = burst_frames(tag, count)
    for start in range(0, len(frames), int(batch)):
        yield b"".join(struct.pack(">H", len(f)) + f for f in frames[start : start + int(batch)])


def cmd_stream_burst(tag, count, batch="64", interval="0"):
    for i, chunk in enumerate(burst_batches(tag, count, batch)):
        if i > 0:
            time.sleep(float(interval))
        sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()


class BurstChecker:
    """Collects the sequence numbers of frames tagged TAG; checks they are 0..COUNT-1 in order."""

    def __init__(self, tag, count):
        self.marker = f"{tag}:".encode()
        self.count = int(count)
        self.seen = []

    def add(self, packet):
        at = packet.find(self.marker)
        if at >= 0:
            self.seen.append(int(packet[at + len(self.marker) : at + len(self.marker) + 6]))
        return len(self.seen) >= self.count

    def finish(self, where):
        if self.seen != list(range(self.count)):
            wrong = next((i for i, n in enumerate(self.seen) if n != i), len(self.seen))
            fail(f"{where}: {len(self.seen)} of {self.count} frames, first out of place at "
                 f"index {wrong}: {self.seen[wrong:wrong + 5]}")
        print(len(self.seen), flush=True)


def cmd_expect_burst(netfile, tag, count, seconds):
    checker = BurstChecker(tag, count)
    for packet in packets_until(netfile, seconds):
        if checker.add(packet):
            break
    checker.finish(netfile)


def cmd_expect_stream_burst(path, tag, count, seconds):
    deadline = time.monotonic() + float(seconds)
    checker = BurstChecker(tag, count)
    offset, rest, done = 0, b"", False
    while not done and time.monotonic() < deadline:
        with open(path, "rb") as f:
            f.seek(offset)
            chunk = f.read()
        offset += len(chunk)
        frames, rest = stream_frames(rest + chunk)
        done = any([checker.add(packet) for packet in frames])
        if not chunk:
            time.sleep(0.05)
    checker.finish(path)


def libvdeplug():
    lib = ctypes.CDLL("libvdeplug.so.2", use_errno=True)
    lib.vde_open_real.restype = ctypes.c_void_p
    lib.vde_open_real.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p]
    lib.vde_recv.restype = ctypes.c_ssize_t
    lib.vde_recv.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    lib.vde_datafd.argtypes = [ctypes.c_void_p]
    lib.vde_close.argtypes = [ctypes.c_void_p]
    return lib


def cmd_vde_burst(url, tag, count, seconds, trigger):
    if trigger not in ("level", "edge"):
        fail(f"vde-burst: trigger {trigger!r}, expected level or edge")
    deadline = time.monotonic() + float(seconds)
    lib = libvdeplug()
    conn = lib.vde_open_real(url.encode(), b"netclient", 1, None)
    if not conn:
        fail(f"vde_open {url}: {os.strerror(ctypes.get_errno())}")
    print("joined", flush=True)
    if trigger == "level":
        poller = select.poll()
        poller.register(lib.vde_datafd(conn), select.POLLIN)
        wait = lambda left: poller.poll(left * 1000)
    else:
        poller = select.epoll()
        poller.register(lib.vde_datafd(conn), select.EPOLLIN | select.EPOLLET)
        wait = lambda left: poller.poll(left)
    checker = BurstChecker(tag, count)
    buffer = ctypes.create_string_buffer(65536)
    while (left := deadline - time.monotonic()) > 0:
        if not wait(left):
            continue
        n = lib.vde_recv(conn, buffer, len(buffer), 0)  # One per readiness, as QEMU does.
        if n < 0:
            fail(f"vde_recv: {os.strerror(ctypes.get_errno())}")
        if checker.add(buffer.raw[:n]):
            break
    checker.finish(url)
    lib.vde_close(conn)


def cmd_ioctl_tunsetiff(netfile):
    fd = os.open(netfile, os.O_RDWR)
    try:
        ifreq = struct.pack("16sH22x", b"ipntest0", 0x0002 | 0x1000)  # IFF_TAP | IFF_NO_PI
        fcntl.ioctl(fd, TUNSETIFF, ifreq)
        print("0")
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e.errno)))
    finally:
        os.close(fd)


class Qmp:
    """A minimal QMP client: one command at a time, events skipped."""

    def __init__(self, path, seconds=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(seconds)
        self.sock.connect(path)
        self.buffer = b""
        self._reply()  # The greeting.
        self.execute("qmp_capabilities")

    def _reply(self):
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                message = json.loads(line)
                if "event" not in message:
                    return message
            data = self.sock.recv(65536)
            if not data:
                fail("QMP socket closed")
            self.buffer += data

    def execute(self, command, arguments=None, fds=()):
        request = {"execute": command}
        if arguments is not None:
            request["arguments"] = arguments
        data = json.dumps(request).encode() + b"\n"
        if fds:
            ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
            self.sock.sendmsg([data], ancillary)
        else:
            self.sock.sendall(data)
        reply = self._reply()
        if "error" in reply:
            fail(f"QMP {command}: {reply['error'].get('desc')}")
        return reply.get("return")


def cmd_qmp_add_tap(qmp_socket, netfile, device):
    qmp = Qmp(qmp_socket)
    fd = os.open(netfile, os.O_RDWR)
    try:
        qmp.execute("getfd", {"fdname": "ipnfd"}, fds=[fd])
    finally:
        os.close(fd)  # QEMU holds its own copy now.
    qmp.execute("netdev_add", {"type": "tap", "id": "n0", "fd": "ipnfd"})
    qmp.execute("device_add", {"driver": device, "netdev": "n0", "id": "nic0"})
    qmp.execute("cont")  # QEMU was started with -S: the guest boots with the NIC in place.
    print("added", flush=True)


COMMANDS = {
    "frame": cmd_frame,
    "send": cmd_send,
    "expect": cmd_expect,
    "expect-stream": cmd_expect_stream,
    "burst": cmd_burst,
    "stream-burst": cmd_stream_burst,
    "expect-burst": cmd_expect_burst,
    "expect-stream-burst": cmd_expect_stream_burst,
    "vde-burst": cmd_vde_burst,
    "ioctl-tunsetiff": cmd_ioctl_tunsetiff,
    "qmp-add-tap": cmd_qmp_add_tap,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        fail(f"usage: netclient.py {{{'|'.join(COMMANDS)}}} ARGS...")
    try:
        COMMANDS[sys.argv[1]](*sys.argv[2:])
    except OSError as e:
        fail(f"{sys.argv[1]}: {e.strerror} ({errno.errorcode.get(e.errno, e.errno)})")
    except TypeError as e:
        fail(f"{sys.argv[1]}: bad arguments: {e}")
