/* ipnfs_ioctl.h: ioctls on an open ipnfs network file, for C and C++ clients.
 *
 * IPNFS_IOC_FRAMED (argument: an int, 1 = on, 0 = off) switches the port to framed I/O, the
 * framing of vde_plug's streams: each read returns as many queued packets as fit in the buffer
 * (at least one, never waiting to fill it), each prefixed with its length as 2 bytes big-endian;
 * each write carries one or more such frames, all checked before any is sent (EINVAL for a
 * malformed buffer). A write whose later frames meet a full network returns the bytes of the
 * frames it sent. When the first frame meets a full network under user.ipn.flow=block, a blocking
 * write waits until that frame goes and returns its bytes alone (a short write); with O_NONBLOCK
 * it fails with EAGAIN. Packets over 65535 bytes cannot be framed: they are cut to 65535 and
 * counted as truncated. The virtio-net header setting (TUNSETVNETHDRSZ) does not apply to
 * framed I/O. The frame format and its codec: ipnfs/framing.h.
 */
#ifndef IPNFS_INCLUDE_IPNFS_IPNFS_IOCTL_H_
#define IPNFS_INCLUDE_IPNFS_IPNFS_IOCTL_H_

#include <sys/ioctl.h>

#define IPNFS_IOC_FRAMED _IOW('i', 0x01, int)

#endif /* IPNFS_INCLUDE_IPNFS_IPNFS_IOCTL_H_ */
