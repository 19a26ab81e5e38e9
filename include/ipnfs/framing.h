/* framing.h: the framing of ipnfs's framed I/O (IPNFS_IOC_FRAMED), for C and C++.
 *
 * A frame is a 2-byte big-endian length, then that many packet bytes (0 to 65535); a buffer of
 * framed I/O is frames back to back. This is the one codec the daemon, the ipn:// libvdeplug
 * plugin (C99, loaded into QEMU) and the benchmark clients share. Pure functions on caller-owned
 * memory: no allocation, no errno, no global state, safe from any thread.
 */
#ifndef IPNFS_INCLUDE_IPNFS_FRAMING_H_
#define IPNFS_INCLUDE_IPNFS_FRAMING_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define IPNFS_FRAME_HEADER_BYTES 2
#define IPNFS_MAX_FRAMED_PACKET 65535

enum ipnfs_frame_status {
  IPNFS_FRAME_COMPLETE = 0, /* Done: a whole frame was encoded, appended or parsed. */
  IPNFS_FRAME_NEED_MORE,    /* The buffer ends inside the frame (or is empty). */
  IPNFS_FRAME_BAD_LENGTH,   /* A packet over IPNFS_MAX_FRAMED_PACKET: it has no frame. */
};

/* One parsed frame. `packet` points into the parsed buffer and lives as long as it. */
struct ipnfs_frame {
  const uint8_t* packet;
  size_t packet_bytes; /* 0 to IPNFS_MAX_FRAMED_PACKET. */
  size_t frame_bytes;  /* IPNFS_FRAME_HEADER_BYTES + packet_bytes: where the next frame starts. */
};

/* Writes the header of a frame of `packet_bytes` bytes to `header` (IPNFS_FRAME_HEADER_BYTES).
 * Returns IPNFS_FRAME_COMPLETE, or IPNFS_FRAME_BAD_LENGTH (nothing written) when `packet_bytes`
 * is over IPNFS_MAX_FRAMED_PACKET. A length of 0 is a valid (empty) frame. */
static inline enum ipnfs_frame_status ipnfs_frame_encode_header(size_t packet_bytes,
                                                                uint8_t* header) {
  if (packet_bytes > IPNFS_MAX_FRAMED_PACKET) return IPNFS_FRAME_BAD_LENGTH;
  header[0] = (uint8_t)(packet_bytes >> 8);
  header[1] = (uint8_t)packet_bytes;
  return IPNFS_FRAME_COMPLETE;
}

/* Writes the frame of `packet` (`packet_bytes` bytes; may be NULL when 0) to `out`, which has
 * `room` bytes. Returns IPNFS_FRAME_COMPLETE with IPNFS_FRAME_HEADER_BYTES + packet_bytes bytes
 * written; IPNFS_FRAME_BAD_LENGTH when the packet is too long to frame; IPNFS_FRAME_NEED_MORE
 * when the frame does not fit in `room`. Nothing is written unless it returns COMPLETE. */
static inline enum ipnfs_frame_status ipnfs_frame_append(uint8_t* out, size_t room,
                                                         const uint8_t* packet,
                                                         size_t packet_bytes) {
  if (packet_bytes > IPNFS_MAX_FRAMED_PACKET) return IPNFS_FRAME_BAD_LENGTH;
  if (room < IPNFS_FRAME_HEADER_BYTES + packet_bytes) return IPNFS_FRAME_NEED_MORE;
  ipnfs_frame_encode_header(packet_bytes, out);
  if (packet_bytes > 0) memcpy(out + IPNFS_FRAME_HEADER_BYTES, packet, packet_bytes);
  return IPNFS_FRAME_COMPLETE;
}

/* Parses the frame at the start of `buffer` (`size` bytes). Returns IPNFS_FRAME_COMPLETE and
 * fills `*frame`; or IPNFS_FRAME_NEED_MORE when `buffer` holds less than the whole frame (no
 * complete header, or fewer packet bytes than the header says; `size` 0 included), leaving
 * `*frame` untouched. Every 2-byte length is valid, 0 too, so parsing never finds a bad length;
 * a caller that takes a whole buffer as frames treats NEED_MORE with bytes left as malformed. */
static inline enum ipnfs_frame_status ipnfs_frame_parse(const uint8_t* buffer, size_t size,
                                                        struct ipnfs_frame* frame) {
  size_t packet_bytes;
  if (size < IPNFS_FRAME_HEADER_BYTES) return IPNFS_FRAME_NEED_MORE;
  packet_bytes = (size_t)buffer[0] << 8 | buffer[1];
  if (size - IPNFS_FRAME_HEADER_BYTES < packet_bytes) return IPNFS_FRAME_NEED_MORE;
  frame->packet = buffer + IPNFS_FRAME_HEADER_BYTES;
  frame->packet_bytes = packet_bytes;
  frame->frame_bytes = IPNFS_FRAME_HEADER_BYTES + packet_bytes;
  return IPNFS_FRAME_COMPLETE;
}

#endif /* IPNFS_INCLUDE_IPNFS_FRAMING_H_ */
