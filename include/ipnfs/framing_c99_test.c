/* framing_c99_test: ipnfs/framing.h compiles as strict C99 (the plugin's language, with any C
 * compiler) and round-trips a frame there. The behaviour is tested in framing_test.cc. */
#include <stdio.h>
#include <string.h>

#include "ipnfs/framing.h"
#include "ipnfs/ipnfs_ioctl.h"

int main(void) {
  const uint8_t packet[3] = {'a', 'b', 'c'};
  uint8_t buffer[IPNFS_FRAME_HEADER_BYTES + sizeof(packet)];
  struct ipnfs_frame frame;
  if (ipnfs_frame_append(buffer, sizeof(buffer), packet, sizeof(packet)) != IPNFS_FRAME_COMPLETE ||
      ipnfs_frame_parse(buffer, sizeof(buffer), &frame) != IPNFS_FRAME_COMPLETE ||
      frame.packet_bytes != sizeof(packet) || memcmp(frame.packet, packet, sizeof(packet)) != 0) {
    fprintf(stderr, "framing_c99_test: the frame did not round-trip\n");
    return 1;
  }
  return 0;
}
