// libvdeplug_ipn.so: the vdeplug4 module for VNL `ipn://PATH[OPTIONS]`, a port of an ipnfs network.
//
// libvdeplug dlopen()s this file for URLs that start with "ipn://" and calls it through the one
// exported symbol, `vdeplug_ops`. A connection is one network file opened O_RDWR: the file is the
// data fd (pollable: POLLIN when a packet is queued), vde_recv() is one read(2) (one packet),
// vde_send() is one write(2) (one packet). There is no control fd. The fd is blocking: a caller
// that polls first never waits in recv, and with user.ipn.flow=block a send waits like the writer
// of any network file.
//
// OPTIONS, in brackets and separated by '/' as for vde:// (ipn:///ipn/lab/net0[create/mode=660]):
//   create      create the network if it does not exist (as open(O_CREAT) would)
//   mode=OCTAL  its mode if created here (default: the open args' mode, as vde_plug -m; or 0600)
//   group=NAME  its group if created here (default: the open args' group, as vde_plug -g)
// ipnfs ports have no numbers: a request for a specific switch port fails with EINVAL.
//
// Errors: vde_open returns NULL with errno as open(2) set it (ENOENT, EACCES, ...), EINVAL for a
// bad option, EISDIR for a directory, ENOTSUP when PATH is not an ipnfs network.
// Threads: no global state; recv and send may run in two threads at once (they are read(2) and
// write(2) on one fd), close only when no other call on the connection is running.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libvdeplug.h>
#include <libvdeplug_mod.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#define IPN_EXPORT __attribute__((visibility("default")))

// Every ipnfs network answers this attribute; nothing else does.
static const char kNetworkAttribute[] = "user.ipn.policy";
static const mode_t kDefaultCreateMode = 0600;

// Starts with the two fields libvdeplug owns (struct vdeconn), then the module's own.
struct ipn_conn {
  void* handle;
  struct vdeplug_module* module;
  int fd;
};

// The parsed VNL and open args.
struct ipn_options {
  const char* path;
  int create;
  mode_t mode;
  const char* group;  // NULL: leave the creator's group.
};

// Fills `options` from the VNL arguments (modified in place) and `args` (may be NULL).
// Returns 0, or -1 with errno EINVAL.
static int ipn_parse(char* vnl, int interface_version, const struct vde_open_args* args,
                     struct ipn_options* options) {
  char* create = NULL;
  char* mode = NULL;
  char* group = NULL;
  struct vdeparms parms[] = {{"create", &create}, {"mode", &mode}, {"group", &group}, {NULL, NULL}};
  if (args != NULL && interface_version != 1) return errno = EINVAL, -1;
  if (vde_parsepathparms(vnl, parms) < 0) return errno = EINVAL, -1;
  if (*vnl == '\0') return errno = EINVAL, -1;  // No path.
  if (args != NULL && args->port != 0) return errno = EINVAL, -1;

  options->path = vnl;
  options->create = create != NULL;
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
  return (VDECONN*)conn;
}

static ssize_t ipn_recv(VDECONN* conn, void* buf, size_t len, int flags) {
  (void)flags;
  return read(((struct ipn_conn*)conn)->fd, buf, len);
}

static ssize_t ipn_send(VDECONN* conn, const void* buf, size_t len, int flags) {
  (void)flags;
  return write(((struct ipn_conn*)conn)->fd, buf, len);
}

static int ipn_datafd(VDECONN* conn) { return ((struct ipn_conn*)conn)->fd; }

static int ipn_ctlfd(VDECONN* conn) {
  (void)conn;
  return -1;  // No control channel: the port lives as long as the fd.
}

// Always 0: the fd and the connection are released whatever close(2) says, so a caller must not
// retry (libvdeplug unloads the module only after a 0).
static int ipn_close(VDECONN* conn) {
  struct ipn_conn* ipn = (struct ipn_conn*)conn;
  close(ipn->fd);
  free(ipn);
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
