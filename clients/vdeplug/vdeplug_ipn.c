// libvdeplug_ipn.so: the vdeplug4 module for VNL `ipn://PATH[OPTIONS]`, a port of an ipnfs network.
//
// libvdeplug dlopen()s this file for URLs that start with "ipn://" and calls it through the one
// exported symbol, `vdeplug_ops`. A connection is one network file opened O_RDWR and switched to
// framed I/O (IPNFS_IOC_FRAMED, ipnfs/ipnfs_ioctl.h): one read(2) takes every queued packet that
// fits in the connection's buffer (at least one), vde_recv() hands them out one per call, and
// vde_send() writes one packet as one frame (no coalescing: a lone packet never waits). There is no
// control fd. The file stays blocking: a caller that polls first never waits in recv, one that does
// not waits for the next packet, and with user.ipn.flow=block a send waits like any writer (in the
// daemon; if the caller made the file O_NONBLOCK, the write fails with EAGAIN and send polls for
// POLLOUT and writes again).
//
// The data fd (vde_datafd) is an epoll fd, readable exactly when vde_recv has a packet to return
// without waiting. It holds one of two members, both level-triggered:
//   - buffer empty: the network file (FUSE poll: readable when the daemon has a packet queued);
//   - buffer not empty: an eventfd that is always readable.
// While packets are buffered the file is not polled at all (no FUSE round trip per poll). When
// recv hands out the last packet of a batch that filled the buffer, it first reads again without
// waiting (O_NONBLOCK for that one read), so a busy port costs one FUSE request per batch;
// otherwise, or when nothing more is queued, the file comes back into the set (one FUSE poll
// request, cheaper than a read that finds nothing when traffic is light). Every recv that leaves
// packets buffered also signals the eventfd, so an edge-triggered poller of the data fd gets one
// wake-up per packet and nothing is stranded in the buffer either way.
//
// Against a daemon without IPNFS_IOC_FRAMED (the ioctl fails), or with the `unframed` option, the
// connection is the plain file: data fd = the file, recv one read(2), send one write(2).
//
// OPTIONS, in brackets and separated by '/' as for vde:// (ipn:///ipn/lab/net0[create/mode=660]):
//   create      create the network if it does not exist (as open(O_CREAT) would)
//   mode=OCTAL  its mode if created here (default: the open args' mode, as vde_plug -m; or 0600)
//   group=NAME  its group if created here (default: the open args' group, as vde_plug -g)
//   unframed    one read(2) and one write(2) per packet on the file itself (no batching)
// ipnfs ports have no numbers: a request for a specific switch port fails with EINVAL.
//
// Limits in framed mode: a packet over 65535 bytes (framing's limit) cannot be sent (EMSGSIZE)
// and is received cut to 65535 bytes (counted by the daemon as truncated); a recv buffer shorter
// than the packet gets its first bytes.
//
// Errors: vde_open returns NULL with errno as open(2) set it (ENOENT, EACCES, ...), EINVAL for a
// bad option, EISDIR for a directory, ENOTSUP when PATH is not an ipnfs network.
// Threads: no global state. A connection is used by one thread at a time (as QEMU, vde_plug and
// dpipe do): recv and send share the buffer, the epoll set and the file's O_NONBLOCK flag. Close
// only when no other call on the connection is running.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libvdeplug.h>
#include <libvdeplug_mod.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ipnfs/framing.h"
#include "ipnfs/ipnfs_ioctl.h"

#define IPN_EXPORT __attribute__((visibility("default")))

// Every ipnfs network answers this attribute; nothing else does.
static const char kNetworkAttribute[] = "user.ipn.policy";
static const mode_t kDefaultCreateMode = 0600;
// A frame: 2 bytes of big-endian length, then the packet (ipnfs/framing.h).
enum { kFrameHeader = IPNFS_FRAME_HEADER_BYTES, kMaxFramedPacket = IPNFS_MAX_FRAMED_PACKET };
// One framed read: room for the largest frame, so the first packet is never cut.
static const size_t kBufferSize = kFrameHeader + kMaxFramedPacket;
// A read that left less room than this (a full-size VLAN-tagged Ethernet frame) stopped for lack
// of room, so more packets are probably queued; a shorter one took everything there was.
static const size_t kFullRoom = kFrameHeader + 1522;

// Starts with the two fields libvdeplug owns (struct vdeconn), then the module's own.
struct ipn_conn {
  void* handle;
  struct vdeplug_module* module;
  int fd;        // The network file, blocking.
  int framed;    // IPNFS_IOC_FRAMED is on; the fields below are used only then.
  int data_fd;   // The epoll set returned by vde_datafd.
  int ready_fd;  // An eventfd, always readable: in the set while packets are buffered.
  int fd_flags;  // The file's status flags (F_GETFL), restored after a read without waiting.
  unsigned char* buffer;  // kBufferSize bytes: one read's frames; [next, end) not handed out.
  size_t next;
  size_t end;
};

// The parsed VNL and open args.
struct ipn_options {
  const char* path;
  int create;
  int unframed;
  mode_t mode;
  const char* group;  // NULL: leave the creator's group.
};

// Fills `options` from the VNL arguments (modified in place) and `args` (may be NULL).
// Returns 0, or -1 with errno EINVAL.
static int ipn_parse(char* vnl, int interface_version, const struct vde_open_args* args,
                     struct ipn_options* options) {
  char* create = NULL;
  char* unframed = NULL;
  char* mode = NULL;
  char* group = NULL;
  struct vdeparms parms[] = {{"create", &create},
                             {"unframed", &unframed},
                             {"mode", &mode},
                             {"group", &group},
                             {NULL, NULL}};
  if (args != NULL && interface_version != 1) return errno = EINVAL, -1;
  if (vde_parsepathparms(vnl, parms) < 0) return errno = EINVAL, -1;
  if (*vnl == '\0') return errno = EINVAL, -1;  // No path.
  if (args != NULL && args->port != 0) return errno = EINVAL, -1;

  options->path = vnl;
  options->create = create != NULL;
  options->unframed = unframed != NULL;
  options->mode = (args != NULL && args->mode != 0) ? args->mode : kDefaultCreateMode;
  options->group = args != NULL ? args->group : NULL;
  if (mode != NULL) {
    char* end = NULL;
    const unsigned long value = strtoul(mode, &end, 8);
    if (*mode == '\0' || *end != '\0' || value > 07777) return errno = EINVAL, -1;
    options->mode = (mode_t)value;
  }
  if (group != NULL) options->group = group;
  return 0;
}

// Opens the network, creating it when asked. Sets `*created` when this call made it.
// Returns the fd, or -1 with errno from open(2).
static int ipn_open_file(const struct ipn_options* options, int* created) {
  const int flags = O_RDWR | O_CLOEXEC | O_NOCTTY;
  *created = 0;
  for (;;) {
    const int fd = open(options->path, flags);
    if (fd >= 0 || errno != ENOENT || !options->create) return fd;
    const int new_fd = open(options->path, flags | O_CREAT | O_EXCL, options->mode);
    if (new_fd >= 0) {
      *created = 1;
      return new_fd;
    }
    if (errno != EEXIST) return -1;  // Else someone else created it meanwhile: join theirs.
  }
}

// Gives a network this call created its group. Returns 0, or -1 with errno.
static int ipn_set_group(int fd, const char* group) {
  if (group == NULL) return 0;
  const gid_t gid = vde_grnam2gid(group);
  if (gid == (gid_t)-1) return errno = EINVAL, -1;
  return fchown(fd, (uid_t)-1, gid);
}

// Returns 0 when `fd` is a network of an ipnfs mount, else -1 with errno ENOTSUP (or EISDIR).
static int ipn_check_network(int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0) return -1;
  if (S_ISDIR(st.st_mode)) return errno = EISDIR, -1;
  if (!S_ISREG(st.st_mode) || fgetxattr(fd, kNetworkAttribute, NULL, 0) < 0) {
    return errno = ENOTSUP, -1;
  }
  return 0;
}

// Adds `fd` to the connection's epoll set (level-triggered POLLIN). Returns 0, or -1 with errno.
static int ipn_watch(struct ipn_conn* conn, int fd) {
  struct epoll_event event = {.events = EPOLLIN, .data = {.fd = fd}};
  return epoll_ctl(conn->data_fd, EPOLL_CTL_ADD, fd, &event);
}

// Switches `conn->fd` to framed I/O with its epoll set and buffer. Returns 0, or -1 with errno
// (ENOTTY from a daemon without framed I/O); the connection is then left unframed and unchanged.
static int ipn_start_framed(struct ipn_conn* conn) {
  const int on = 1;
  if ((conn->fd_flags = fcntl(conn->fd, F_GETFL)) < 0) return -1;
  if ((conn->buffer = malloc(kBufferSize)) == NULL) return -1;
  if ((conn->data_fd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
      (conn->ready_fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
      ipn_watch(conn, conn->fd) < 0 || ioctl(conn->fd, IPNFS_IOC_FRAMED, &on) < 0) {
    return -1;
  }
  conn->framed = 1;
  return 0;
}

// Undoes what ipn_start_framed did (all or part of it).
static void ipn_stop_framed(struct ipn_conn* conn) {
  if (conn->data_fd >= 0) close(conn->data_fd);
  if (conn->ready_fd >= 0) close(conn->ready_fd);
  free(conn->buffer);
  conn->data_fd = conn->ready_fd = -1;
  conn->buffer = NULL;
}

// Releases everything `conn` holds (any of it may be missing) and `conn` itself.
static void ipn_free(struct ipn_conn* conn) {
  ipn_stop_framed(conn);
  if (conn->fd >= 0) close(conn->fd);
  free(conn);
}

static VDECONN* ipn_open(char* vnl, char* descr, int interface_version,
                         struct vde_open_args* args) {
  (void)descr;  // ipnfs names a port by its process (user.ipn.ports), not by a description.
  struct ipn_options options;
  if (ipn_parse(vnl, interface_version, args, &options) < 0) return NULL;

  int created = 0;
  const int fd = ipn_open_file(&options, &created);
  if (fd < 0) return NULL;
  struct ipn_conn* conn = NULL;
  if (ipn_check_network(fd) < 0 || (created && ipn_set_group(fd, options.group) < 0) ||
      (conn = calloc(1, sizeof(*conn))) == NULL) {
    const int saved = errno;
    close(fd);
    if (created) unlink(options.path);
    errno = saved;
    return NULL;
  }
  conn->fd = fd;
  conn->data_fd = conn->ready_fd = -1;
  if (!options.unframed && ipn_start_framed(conn) < 0) ipn_stop_framed(conn);  // Plain I/O.
  return (VDECONN*)conn;
}

// Fills the empty buffer with one framed read; `wait` says whether the read may block.
// Returns the bytes read (> 0), or -1 with errno (EAGAIN: nothing queued and not waiting).
static ssize_t ipn_fill(struct ipn_conn* conn, int wait) {
  if (!wait && fcntl(conn->fd, F_SETFL, conn->fd_flags | O_NONBLOCK) < 0) return -1;
  const ssize_t n = read(conn->fd, conn->buffer, kBufferSize);
  const int saved = errno;
  if (!wait) fcntl(conn->fd, F_SETFL, conn->fd_flags);
  errno = saved;
  if (n <= 0) return n < 0 ? -1 : (errno = EIO, -1);  // A joined port never reads 0.
  conn->next = 0;
  conn->end = (size_t)n;
  return n;
}

// Makes the epoll set watch the eventfd (packets buffered) instead of the file, or the reverse.
// Returns 0, or -1 with errno.
static int ipn_watch_buffer(struct ipn_conn* conn, int buffered) {
  const int from = buffered ? conn->fd : conn->ready_fd;
  const int to = buffered ? conn->ready_fd : conn->fd;
  if (epoll_ctl(conn->data_fd, EPOLL_CTL_DEL, from, NULL) < 0) return -1;
  return ipn_watch(conn, to);
}

// Signals the eventfd again: a fresh edge for edge-triggered pollers of the data fd.
static void ipn_signal(struct ipn_conn* conn) {
  const uint64_t one = 1;
  ssize_t ignored = write(conn->ready_fd, &one, sizeof(one));  // EAGAIN at 2^64-2: still readable.
  (void)ignored;
}

// Copies the next buffered packet into `buf` (at most `len` bytes; the rest of a longer packet is
// lost). Returns the bytes copied, or -1 with errno EIO if the buffer is not well framed.
static ssize_t ipn_take(struct ipn_conn* conn, void* buf, size_t len) {
  struct ipnfs_frame frame;
  if (ipnfs_frame_parse(conn->buffer + conn->next, conn->end - conn->next, &frame) !=
      IPNFS_FRAME_COMPLETE) {
    conn->next = conn->end;  // Never happens with ipnfs; drop the batch rather than misparse it.
    return errno = EIO, -1;
  }
  conn->next += frame.frame_bytes;
  const size_t copied = frame.packet_bytes < len ? frame.packet_bytes : len;
  memcpy(buf, frame.packet, copied);
  return (ssize_t)copied;
}

// After a packet was taken: keeps the data fd readable exactly while recv can return a packet
// without waiting. `was_buffered`: the eventfd, not the file, was in the set before this recv.
// Returns 0, or -1 with errno when the epoll set could not be changed.
static int ipn_update_readiness(struct ipn_conn* conn, int was_buffered) {
  if (conn->next < conn->end) {  // More to hand out: the eventfd, signalled once more.
    if (!was_buffered && ipn_watch_buffer(conn, 1) < 0) return -1;
    ipn_signal(conn);
    return 0;
  }
  if (!was_buffered) return 0;  // A batch of one: the file is still in the set.
  // The last packet of a batch: read on at once if the buffer was full (more is probably queued),
  // else (or if nothing is) watch the file again.
  const int full = conn->end + kFullRoom > kBufferSize;  // The last read stopped for lack of room.
  if (full && ipn_fill(conn, 0) > 0) {
    ipn_signal(conn);
    return 0;
  }
  return ipn_watch_buffer(conn, 0);
}

static ssize_t ipn_recv_framed(struct ipn_conn* conn, void* buf, size_t len) {
  const int was_buffered = conn->next < conn->end;
  if (!was_buffered && ipn_fill(conn, 1) < 0) return -1;
  const ssize_t n = ipn_take(conn, buf, len);
  if (ipn_update_readiness(conn, was_buffered) < 0) return -1;
  return n;
}

// Sends one packet as one frame, without copying it. Returns `len`, or -1 with errno.
static ssize_t ipn_send_framed(struct ipn_conn* conn, const void* buf, size_t len) {
  uint8_t header[kFrameHeader];
  if (ipnfs_frame_encode_header(len, header) != IPNFS_FRAME_COMPLETE) {
    return errno = EMSGSIZE, -1;  // Over kMaxFramedPacket.
  }
  if (len == 0) return 0;  // As write(2) of 0 bytes on a network file: nothing is sent.
  const struct iovec iov[2] = {{.iov_base = header, .iov_len = kFrameHeader},
                               {.iov_base = (void*)buf, .iov_len = len}};
  ssize_t n;
  while ((n = writev(conn->fd, iov, 2)) < 0 && errno == EAGAIN) {
    struct pollfd writable = {.fd = conn->fd, .events = POLLOUT};
    if (poll(&writable, 1, -1) < 0) return -1;  // EINTR: the caller may retry, as with write(2).
  }
  if (n < 0) return -1;
  return n == (ssize_t)(kFrameHeader + len) ? (ssize_t)len : (errno = EIO, -1);
}

static ssize_t ipn_recv(VDECONN* conn, void* buf, size_t len, int flags) {
  (void)flags;
  struct ipn_conn* ipn = (struct ipn_conn*)conn;
  return ipn->framed ? ipn_recv_framed(ipn, buf, len) : read(ipn->fd, buf, len);
}

static ssize_t ipn_send(VDECONN* conn, const void* buf, size_t len, int flags) {
  (void)flags;
  struct ipn_conn* ipn = (struct ipn_conn*)conn;
  return ipn->framed ? ipn_send_framed(ipn, buf, len) : write(ipn->fd, buf, len);
}

static int ipn_datafd(VDECONN* conn) {
  const struct ipn_conn* ipn = (const struct ipn_conn*)conn;
  return ipn->framed ? ipn->data_fd : ipn->fd;
}

static int ipn_ctlfd(VDECONN* conn) {
  (void)conn;
  return -1;  // No control channel: the port lives as long as the fd.
}

// Always 0: the fds and the connection are released whatever close(2) says, so a caller must not
// retry (libvdeplug unloads the module only after a 0). Buffered packets are dropped.
static int ipn_close(VDECONN* conn) {
  ipn_free((struct ipn_conn*)conn);
  return 0;
}

IPN_EXPORT struct vdeplug_module vdeplug_ops = {
    .flags = 0,
    .vde_open_real = ipn_open,
    .vde_recv = ipn_recv,
    .vde_send = ipn_send,
    .vde_datafd = ipn_datafd,
    .vde_ctlfd = ipn_ctlfd,
    .vde_close = ipn_close,
};
