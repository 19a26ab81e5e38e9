// Integration tests of the data path: write() sends one packet to every other port, read()
// receives one packet, whatever the sizes; per-port queues drop what does not fit.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipnfs/ipnfs_ioctl.h"
#include "tests/mounted_test.h"
#include "tests/port_io.h"

namespace ipnfs::tests {
namespace {

constexpr size_t kQueueLength = 256;  // Packets a port holds for its reader, by default.

std::string PacketNumber(int i) { return absl::StrCat("packet-", i); }

// Bytes that differ from one offset to the next, so that a reordering or a cut shows.
std::string Pattern(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  return bytes;
}

class DataPathTest : public MountedTest {
 protected:
  // Joins network `name` (creating it) with `flags`.
  Fd Join(const std::string& name, int flags) {
    Fd fd = Open(PathOf(name), flags | O_CREAT, 0666);
    EXPECT_TRUE(fd.valid()) << "open " << name << ": " << std::strerror(errno);
    return fd;
  }
};

TEST_F(DataPathTest, EveryReaderGetsEveryPacketOnceInOrderAndTheSenderGetsNone) {
  Fd writer = Join("net", O_RDWR);
  std::vector<Fd> readers;
  for (int i = 0; i < 3; ++i) readers.push_back(Join("net", O_RDONLY));
  ASSERT_FALSE(HasFailure());

  constexpr int kPackets = 100;
  for (int i = 0; i < kPackets; ++i) {
    ASSERT_THAT(Send(writer.get(), PacketNumber(i)), Wrote(PacketNumber(i).size()));
  }
  for (size_t r = 0; r < readers.size(); ++r) {
    for (int i = 0; i < kPackets; ++i) {
      ASSERT_THAT(Receive(readers[r].get()), IsPacket(PacketNumber(i)))
          << "reader " << r << ", packet " << i;
    }
    EXPECT_THAT(ReadNow(readers[r].get()), FailsWith(EAGAIN)) << "reader " << r << " got more";
  }
  EXPECT_THAT(ReadNow(writer.get()), FailsWith(EAGAIN)) << "the sender got its own packet";
}

TEST_F(DataPathTest, NonBlockingReadWithNothingQueuedFailsWithEagain) {
  Fd reader = Join("net", O_RDONLY | O_NONBLOCK);
  ASSERT_TRUE(reader.valid());
  std::vector<char> buffer(kAnyPacket);
  EXPECT_EQ(::read(reader.get(), buffer.data(), buffer.size()), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_F(DataPathTest, WriteLongerThanTheMtuFailsWithEmsgsizeAndDeliversNothing) {
  Fd writer = Join("net", O_WRONLY);
  Fd reader = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  EXPECT_THAT(Send(writer.get(), Pattern(kMtu + 1)), FailsWith(EMSGSIZE));
  EXPECT_THAT(ReadNow(reader.get()), FailsWith(EAGAIN));
}

TEST_F(DataPathTest, WriteOfExactlyTheMtuIsDeliveredWhole) {
  Fd writer = Join("net", O_WRONLY);
  Fd reader = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  const std::string packet = Pattern(kMtu);
  ASSERT_THAT(Send(writer.get(), packet), Wrote(kMtu));
  EXPECT_THAT(Receive(reader.get(), absl::Seconds(5), kMtu + 1), IsPacket(packet));
}

TEST_F(DataPathTest, ShortBufferGetsTheStartOfThePacketAndTheRestIsDiscarded) {
  Fd writer = Join("net", O_WRONLY);
  Fd reader = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  const std::string first = Pattern(100);
  ASSERT_THAT(Send(writer.get(), first), Wrote(100));
  ASSERT_THAT(Send(writer.get(), "second"), Wrote(6));

  EXPECT_THAT(Receive(reader.get(), absl::Seconds(5), 10), IsPacket(first.substr(0, 10)));
  EXPECT_THAT(Receive(reader.get()), IsPacket("second"));
}

TEST_F(DataPathTest, EmptyWriteReturnsZeroAndDeliversNothing) {
  Fd writer = Join("net", O_WRONLY);
  Fd reader = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  EXPECT_THAT(Send(writer.get(), ""), Wrote(0));
  EXPECT_THAT(ReadNow(reader.get()), FailsWith(EAGAIN));
  // The network still works afterwards.
  ASSERT_THAT(Send(writer.get(), "after"), Wrote(5));
  EXPECT_THAT(Receive(reader.get()), IsPacket("after"));
}

TEST_F(DataPathTest, FramedReadReturnsThousandsOfTinyQueuedPacketsInOrder) {
  constexpr int kPackets = 1500;  // More frames than one reply may have iovecs (1024).
  Fd writer = Join("net", O_WRONLY);
  ASSERT_EQ(::setxattr(PathOf("net").c_str(), "user.ipn.qlen", "2000", 4, 0), 0);
  Fd reader = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  const int on = 1;
  ASSERT_EQ(::ioctl(reader.get(), IPNFS_IOC_FRAMED, &on), 0) << std::strerror(errno);
  std::string expected;
  for (int i = 0; i < kPackets; ++i) {
    const std::string packet = {static_cast<char>(i >> 8), static_cast<char>(i & 0xff)};
    ASSERT_THAT(Send(writer.get(), packet), Wrote(2));
    expected += std::string{'\0', '\2'} + packet;
  }
  ReadInThread read(reader.get(), 65537);
  const std::optional<IoResult> got = read.WaitFor(absl::Seconds(5));
  ASSERT_TRUE(got.has_value()) << "the framed read never returned";
  EXPECT_THAT(*got, IsPacket(expected));
}

TEST_F(DataPathTest, ReaderThatDoesNotReadKeepsTheFirst256PacketsAndLosesTheRest) {
  Fd writer = Join("net", O_WRONLY);
  Fd slow = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  constexpr int kPackets = 300;
  for (int i = 0; i < kPackets; ++i) {
    ASSERT_THAT(Send(writer.get(), PacketNumber(i)), Wrote(PacketNumber(i).size()))
        << "a full receiver must not make the sender fail";
  }
  for (size_t i = 0; i < kQueueLength; ++i) {
    ASSERT_THAT(ReadNow(slow.get()), IsPacket(PacketNumber(static_cast<int>(i))));
  }
  EXPECT_THAT(ReadNow(slow.get()), FailsWith(EAGAIN));
}

TEST_F(DataPathTest, SlowReaderCostsAReaderThatKeepsUpNoPacket) {
  Fd writer = Join("net", O_WRONLY);
  Fd slow = Join("net", O_RDONLY);
  Fd fast = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  constexpr int kPackets = 300;
  for (int i = 0; i < kPackets; ++i) {
    ASSERT_THAT(Send(writer.get(), PacketNumber(i)), Wrote(PacketNumber(i).size()));
    ASSERT_THAT(ReadNow(fast.get()), IsPacket(PacketNumber(i)));
  }
  EXPECT_THAT(ReadNow(fast.get()), FailsWith(EAGAIN));
  for (size_t i = 0; i < kQueueLength; ++i) {
    ASSERT_THAT(ReadNow(slow.get()), IsPacket(PacketNumber(static_cast<int>(i))));
  }
  EXPECT_THAT(ReadNow(slow.get()), FailsWith(EAGAIN));
}

TEST_F(DataPathTest, ReadingFreesRoomForLaterPackets) {
  Fd writer = Join("net", O_WRONLY);
  Fd reader = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  for (size_t i = 0; i < kQueueLength + 10; ++i) {
    ASSERT_THAT(Send(writer.get(), "old"), Wrote(3));
  }
  for (size_t i = 0; i < kQueueLength; ++i) ASSERT_THAT(ReadNow(reader.get()), IsPacket("old"));
  ASSERT_THAT(Send(writer.get(), "new"), Wrote(3));
  EXPECT_THAT(ReadNow(reader.get()), IsPacket("new"));
}

TEST_F(DataPathTest, PortThatJoinsLaterGetsOnlyLaterPackets) {
  Fd writer = Join("net", O_WRONLY);
  Fd early = Join("net", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  ASSERT_THAT(Send(writer.get(), "before"), Wrote(6));
  Fd late = Join("net", O_RDONLY);
  ASSERT_TRUE(late.valid());
  ASSERT_THAT(Send(writer.get(), "after"), Wrote(5));
  EXPECT_THAT(ReadNow(late.get()), IsPacket("after"));
  EXPECT_THAT(ReadNow(early.get()), IsPacket("before"));
  EXPECT_THAT(ReadNow(early.get()), IsPacket("after"));
}

TEST_F(DataPathTest, PacketsStayInTheirNetwork) {
  Fd writer = Join("one", O_WRONLY);
  Fd same = Join("one", O_RDONLY);
  Fd other = Join("two", O_RDONLY);
  ASSERT_FALSE(HasFailure());
  ASSERT_THAT(Send(writer.get(), "hello"), Wrote(5));
  EXPECT_THAT(Receive(same.get()), IsPacket("hello"));
  EXPECT_THAT(ReadNow(other.get()), FailsWith(EAGAIN));
}

TEST_F(DataPathTest, LseekFailsWithEspipe) {
  Fd port = Join("net", O_RDWR);
  ASSERT_TRUE(port.valid());
  EXPECT_EQ(::lseek(port.get(), 0, SEEK_SET), -1);
  EXPECT_EQ(errno, ESPIPE);
}

TEST_F(DataPathTest, SharedMmapFailsWithEnodev) {
  Fd port = Join("net", O_RDWR);
  ASSERT_TRUE(port.valid());
  void* mapped = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, port.get(), 0);
  const int error = errno;
  if (mapped != MAP_FAILED) ::munmap(mapped, 4096);
  EXPECT_EQ(mapped, MAP_FAILED);
  EXPECT_EQ(error, ENODEV) << std::strerror(error);
}

}  // namespace
}  // namespace ipnfs::tests
