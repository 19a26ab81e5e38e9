#include "tap/packet_socket.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <net/if_arp.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/checksum.h"
#include "core/errno_status.h"
#include "core/offload.h"
#include "tap/frame_fixup.h"
#include "tap/link_control.h"

namespace ipnfs {
namespace {

// With PACKET_VNET_HDR every frame read or written is preceded by a virtio-net header (Offload's
// encoding: packet sockets use host order, little-endian here). It sits at the start of a slot's
// headroom on reads, and right before the frame on writes.
constexpr size_t kVnetHeader = Offload::kVnetHeaderBytes;
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "packet sockets' header is host order");
constexpr size_t kVlanTag = 4;
static_assert(kVnetHeader + kVlanTag <= FrameSlot::kHeadroom,
              "the headroom holds the virtio header and room for a VLAN tag");

absl::Status SetOption(int fd, int option, const char* what) {
  const int on = 1;
  if (setsockopt(fd, SOL_PACKET, option, &on, sizeof(on)) != 0) {
    return ErrnoError(errno, absl::StrCat("setsockopt ", what, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

// The auxiliary data of a received frame (its VLAN tag), or null.
const tpacket_auxdata* AuxData(const msghdr& message) {
  for (const cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&message), const_cast<cmsghdr*>(c))) {
    if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA &&
        c->cmsg_len >= CMSG_LEN(sizeof(tpacket_auxdata))) {
      return reinterpret_cast<const tpacket_auxdata*>(CMSG_DATA(c));
    }
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PacketSocket>> PacketSocket::Open(const std::string& name) {
  absl::StatusOr<LinkFacts> facts = DescribeLink(name);
  if (!facts.ok()) return facts.status();
  if ((facts->flags & IFF_LOOPBACK) != 0 || facts->type == ARPHRD_LOOPBACK) {
    return ErrnoError(EINVAL, absl::StrCat("\"", name, "\" is a loopback interface"));
  }
  if (facts->type != ARPHRD_ETHER) {
    return ErrnoError(EINVAL, absl::StrCat("\"", name, "\" is not an Ethernet interface"));
  }
  // Protocol 0 at first: nothing is received before the bind below picks the interface.
  ScopedFd fd(socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    const int error = (errno == EACCES) ? EPERM : errno;
    return ErrnoError(error, absl::StrCat("AF_PACKET socket: ", strerror(errno)));
  }
  for (auto [option, what] : {std::pair{PACKET_IGNORE_OUTGOING, "PACKET_IGNORE_OUTGOING"},
                              std::pair{PACKET_AUXDATA, "PACKET_AUXDATA"},
                              std::pair{PACKET_VNET_HDR, "PACKET_VNET_HDR"}}) {
    if (absl::Status set = SetOption(fd.get(), option, what); !set.ok()) return set;
  }
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = facts->ifindex;
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = (errno == ENODEV || errno == ENXIO) ? EINVAL : errno;
    return ErrnoError(error, absl::StrCat("binding to ", name, ": ", strerror(errno)));
  }
  // Promiscuous while grabbed, so frames for the network's other MACs arrive too. A membership of
  // the socket: the kernel drops it (and the interface's promiscuity) when the socket closes.
  packet_mreq promiscuous{};
  promiscuous.mr_ifindex = facts->ifindex;
  promiscuous.mr_type = PACKET_MR_PROMISC;
  if (setsockopt(fd.get(), SOL_PACKET, PACKET_ADD_MEMBERSHIP, &promiscuous, sizeof(promiscuous)) !=
      0) {
    return ErrnoError(errno, absl::StrCat("promiscuous mode on ", name, ": ", strerror(errno)));
  }
  return std::unique_ptr<PacketSocket>(new PacketSocket(name, facts->ifindex, std::move(fd)));
}

void PacketSocket::PrepareRead(io_uring_sqe* sqe, FrameSlot& slot) {
  slot.vectors[0] = {.iov_base = slot.buffer.get(), .iov_len = kVnetHeader};
  slot.vectors[1] = {.iov_base = slot.frame(), .iov_len = slot.capacity};
  slot.message = msghdr{};
  slot.message.msg_name = &slot.from;
  slot.message.msg_namelen = sizeof(slot.from);
  slot.message.msg_iov = slot.vectors;
  slot.message.msg_iovlen = 2;
  slot.message.msg_control = slot.control;
  slot.message.msg_controllen = sizeof(slot.control);
  io_uring_prep_recvmsg(sqe, fd_.get(), &slot.message, 0);
}

IncomingFrame PacketSocket::ReceivedFrame(FrameSlot& slot, size_t bytes) {
  if ((slot.message.msg_flags & MSG_TRUNC) != 0 || bytes <= kVnetHeader) return {};
  if (slot.from.sll_pkttype == PACKET_OUTGOING) return {};  // Never loop our own frames back.
  size_t size = bytes - kVnetHeader;
  const Offload header = Offload::FromVnetHeader(slot.buffer.get());
  if (header.needs_checksum() &&
      !CompletePartialChecksum({slot.frame(), size}, header.csum_start, header.csum_offset)) {
    return {};
  }
  uint8_t* start = slot.frame();
  const tpacket_auxdata* aux = AuxData(slot.message);
  if (aux != nullptr && (aux->tp_status & TP_STATUS_VLAN_VALID) != 0) {
    const uint16_t tpid =
        (aux->tp_status & TP_STATUS_VLAN_TPID_VALID) != 0 ? aux->tp_vlan_tpid : ETH_P_8021Q;
    if (!InsertVlanTag(start, size, tpid, aux->tp_vlan_tci)) return {};
    start -= kVlanTag;
    size += kVlanTag;
  }
  return {.bytes = {start, size}, .offload = Offload{}};
}

void PacketSocket::PrepareWrite(io_uring_sqe* sqe, WriteSlot& slot) {
  // A grab's port takes no offloads: its packets are plain and the header is zeros.
  PrepareVnetWrite(sqe, fd_.get(), slot);
}

bool PacketSocket::Exists() const { return InterfaceIndexExists(ifindex_); }

}  // namespace ipnfs
