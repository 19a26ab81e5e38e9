// Integration tests of /.pcap: every network has a read-only monitor in the mirror tree that
// reads as a pcap stream, which tcpdump and tshark decode (live, from a saved capture, from
// standard input); its layout byte by byte; reads of any size; the mirror's shape, reserved names
// and read-only rules; permissions as nobody; and drops of a monitor that does not read.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policies/frame_builder.h"
#include "tests/background_process.h"
#include "tests/features/feature_support.h"
#include "tests/mounted_test.h"
#include "tests/port_io.h"
#include "tests/run_as.h"
#include "tests/subprocess.h"
#include "tests/temp_dir.h"
#include "tests/wait_until.h"

namespace ipnfs::tests {
namespace {

using ::testing::HasSubstr;

const MacAddress kMacA = TestMac(0x0a);
const MacAddress kMacB = TestMac(0x0b);

uint32_t LittleEndian32(absl::string_view bytes, size_t offset) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = value << 8 | static_cast<uint8_t>(bytes[offset + i]);
  return value;
}

// A frame of `size` bytes (at least 14) from A to broadcast; its payload tells `index`.
std::string Frame(size_t size, int index) {
  std::string payload = absl::StrCat("frame ", index, " ");
  payload.resize(size - 14, '.');
  return FrameBuilder().From(kMacA).PayloadText(payload).BuildString();
}

// The summary lines tcpdump prints, one per frame (without the hex dump lines of the payload).
std::vector<std::string> FrameLines(const std::string& tcpdump_output) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(tcpdump_output, '\n', absl::SkipEmpty())) {
    if (line[0] != '\t' && line[0] != ' ') lines.emplace_back(line);
  }
  return lines;
}

class CaptureTest : public MountedTest {
 protected:
  void SetUp() override {
    MountedTest::SetUp();
    if (HasFailure()) return;
    ASSERT_EQ(::mknod(PathOf("net0").c_str(), S_IFREG | 0666, 0), 0);
  }

  // Waits until network `name` has a monitor port (a capture tool opened its /.pcap file).
  bool WaitForMonitor(const std::string& name) {
    return WaitUntil([&] {
      for (PortLine& line : PortsOf(PathOf(name))) {
        if (line["mode"] == "monitor") return true;
      }
      return false;
    });
  }

  // Starts `command` with /bin/sh in the mount, in the background.
  std::unique_ptr<BackgroundProcess> Background(const std::string& command) {
    return std::make_unique<BackgroundProcess>(std::vector<std::string>{"/bin/sh", "-c", command},
                                               daemon().path());
  }

  // Waits up to 10 s for `process` to exit 0; fails the test with its output otherwise.
  void ExpectSuccess(BackgroundProcess& process) {
    std::optional<int> code = process.WaitForExit(absl::Seconds(10));
    EXPECT_EQ(code, std::optional<int>(0)) << "stdout:\n"
                                           << process.Stdout() << "stderr:\n"
                                           << process.Stderr();
  }

  // Opens the monitor of net0 and reads its 24-byte global header.
  std::string ReadGlobalHeader(const Fd& monitor) {
    IoResult header = Receive(monitor.get(), absl::Seconds(5), 24);
    EXPECT_EQ(header.error, 0) << std::strerror(header.error);
    return header.bytes;
  }
};

TEST_F(CaptureTest, TcpdumpStartedBeforehandDecodesFramesLive) {
  std::unique_ptr<BackgroundProcess> tcpdump =
      Background("exec timeout 10 tcpdump -n -e -r .pcap/net0 -c 3");
  ASSERT_TRUE(WaitForMonitor("net0")) << tcpdump->Stderr();
  Fd writer = Open(PathOf("net0"), O_WRONLY);
  for (int i = 0; i < 3; ++i) ASSERT_THAT(Send(writer.get(), Frame(60, i)), Wrote(60));
  ExpectSuccess(*tcpdump);
  std::vector<std::string> lines = FrameLines(tcpdump->Stdout());
  ASSERT_EQ(lines.size(), 3u) << tcpdump->Stdout();
  int frames = 0;
  for (const std::string& line : lines) {
    if (line.find("02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff, ethertype Unknown (0x88b5), length 60") !=
        std::string::npos) {
      ++frames;
    }
  }
  EXPECT_EQ(frames, 3) << tcpdump->Stdout();
}

TEST_F(CaptureTest, CatCaptureSavedToAFileIsReadByTshark) {
  TempDir files;
  const std::string capture = files.PathOf("cap.pcap");
  std::unique_ptr<BackgroundProcess> cat =
      Background(absl::StrCat("exec cat .pcap/net0 > ", capture));
  ASSERT_TRUE(WaitForMonitor("net0"));
  Fd writer = Open(PathOf("net0"), O_WRONLY);
  const std::vector<size_t> sizes = {60, 14, 1514, 100};
  size_t expected_size = 24;
  for (size_t i = 0; i < sizes.size(); ++i) {
    ASSERT_THAT(Send(writer.get(), Frame(sizes[i], i)), Wrote(sizes[i]));
    expected_size += 16 + sizes[i];
  }
  EXPECT_TRUE(WaitUntil([&] { return ReadFileText(capture).size() >= expected_size; }))
      << "the capture has " << ReadFileText(capture).size() << " of " << expected_size << " bytes";
  cat->Kill(SIGTERM);
  EXPECT_EQ(ReadFileText(capture).size(), expected_size);

  CommandResult tshark = RunShell(absl::StrCat("timeout 60 tshark -r ", capture,
                                               " -T fields -e frame.number -e eth.src -e eth.dst "
                                               "-e frame.len -e frame.cap_len"));
  EXPECT_EQ(tshark.exit_code, 0) << tshark;
  EXPECT_EQ(tshark.out,
            "1\t02:00:00:00:00:0a\tff:ff:ff:ff:ff:ff\t60\t60\n"
            "2\t02:00:00:00:00:0a\tff:ff:ff:ff:ff:ff\t14\t14\n"
            "3\t02:00:00:00:00:0a\tff:ff:ff:ff:ff:ff\t1514\t1514\n"
            "4\t02:00:00:00:00:0a\tff:ff:ff:ff:ff:ff\t100\t100\n")
      << tshark;
}

TEST_F(CaptureTest, TcpdumpReadsTheMonitorFromStandardInput) {
  std::unique_ptr<BackgroundProcess> tcpdump =
      Background("exec timeout 10 tcpdump -n -e -r - -c 2 < .pcap/net0");
  ASSERT_TRUE(WaitForMonitor("net0")) << tcpdump->Stderr();
  Fd writer = Open(PathOf("net0"), O_WRONLY);
  for (int i = 0; i < 2; ++i) ASSERT_THAT(Send(writer.get(), Frame(60, i)), Wrote(60));
  ExpectSuccess(*tcpdump);
  std::vector<std::string> lines = FrameLines(tcpdump->Stdout());
  EXPECT_EQ(lines.size(), 2u) << tcpdump->Stdout();
}

TEST_F(CaptureTest, MonitorSeesUnicastBetweenTwoOtherPortsOfASwitch) {
  ASSERT_EQ(SetXattr(PathOf("net0"), "user.ipn.policy", "switch"), 0);
  Fd a = Open(PathOf("net0"), O_RDWR);
  Fd b = Open(PathOf("net0"), O_RDWR);
  Fd c = Open(PathOf("net0"), O_RDWR);
  std::unique_ptr<BackgroundProcess> tcpdump =
      Background("exec timeout 10 tcpdump -n -e -r .pcap/net0 -c 3");
  ASSERT_TRUE(WaitForMonitor("net0")) << tcpdump->Stderr();
  ASSERT_THAT(Send(a.get(), FrameBuilder().From(kMacA).PayloadText("learn A").BuildString()),
              Wrote(21));
  ASSERT_THAT(Send(b.get(), FrameBuilder().From(kMacB).PayloadText("learn B").BuildString()),
              Wrote(21));
  for (const Fd* port : {&a, &b, &c}) {
    while (ReadNow(port->get()).error == 0) {
    }
  }
  ASSERT_THAT(
      Send(a.get(), FrameBuilder().To(kMacB).From(kMacA).PayloadText("unicast").BuildString()),
      Wrote(21));
  EXPECT_THAT(ReadNow(c.get()), FailsWith(EAGAIN)) << "the frame was not unicast";
  ExpectSuccess(*tcpdump);
  std::vector<std::string> lines = FrameLines(tcpdump->Stdout());
  ASSERT_EQ(lines.size(), 3u) << tcpdump->Stdout();
  EXPECT_THAT(lines[2], HasSubstr("02:00:00:00:00:0a > 02:00:00:00:00:0b, ethertype Unknown"));
}

TEST_F(CaptureTest, MonitorStartsWithThePcapGlobalHeader) {
  ASSERT_EQ(SetXattr(PathOf("net0"), "user.ipn.mtu", "1500"), 0);
  Fd monitor = Open(PathOf(".pcap/net0"), O_RDONLY);
  ASSERT_TRUE(monitor.valid()) << std::strerror(errno);
  const std::string header = ReadGlobalHeader(monitor);
  const std::string expected(
      "\xd4\xc3\xb2\xa1\x02\x00\x04\x00"   // magic, version 2.4
      "\x00\x00\x00\x00\x00\x00\x00\x00"   // thiszone, sigfigs
      "\xdc\x05\x00\x00\x01\x00\x00\x00",  // snaplen 1500, ethernet
      24);
  EXPECT_EQ(header, expected);
}

TEST_F(CaptureTest, LinktypeUser0SetBeforeOpeningGivesLinkType147) {
  ASSERT_EQ(SetXattr(PathOf("net0"), "user.ipn.linktype", "user0"), 0);
  Fd monitor = Open(PathOf(".pcap/net0"), O_RDONLY);
  ASSERT_TRUE(monitor.valid()) << std::strerror(errno);
  const std::string header = ReadGlobalHeader(monitor);
  ASSERT_EQ(header.size(), 24u);
  EXPECT_EQ(LittleEndian32(header, 16), 65536u) << "snap length";
  EXPECT_EQ(LittleEndian32(header, 20), 147u) << "link type";
}

TEST_F(CaptureTest, RecordsReadAsSixteenBytesThenThePacketAreExact) {
  Fd monitor = Open(PathOf(".pcap/net0"), O_RDONLY);
  ASSERT_EQ(ReadGlobalHeader(monitor).size(), 24u);
  Fd writer = Open(PathOf("net0"), O_WRONLY);
  const std::vector<size_t> sizes = {100, 14, 1000};
  const absl::Time before = absl::Now();
  for (size_t i = 0; i < sizes.size(); ++i) {
    ASSERT_THAT(Send(writer.get(), Frame(sizes[i], i)), Wrote(sizes[i]));
  }
  const absl::Time after = absl::Now();
  for (size_t i = 0; i < sizes.size(); ++i) {
    IoResult record = Receive(monitor.get(), absl::Seconds(5), 16);
    ASSERT_EQ(record.bytes.size(), 16u) << "record " << i << ": " << std::strerror(record.error);
    const int64_t micros =
        int64_t{LittleEndian32(record.bytes, 0)} * 1000000 + LittleEndian32(record.bytes, 4);
    EXPECT_LT(LittleEndian32(record.bytes, 4), 1000000u);
    EXPECT_GE(micros, absl::ToUnixMicros(before)) << "record " << i;
    EXPECT_LE(micros, absl::ToUnixMicros(after)) << "record " << i;
    EXPECT_EQ(LittleEndian32(record.bytes, 8), sizes[i]) << "captured length of record " << i;
    EXPECT_EQ(LittleEndian32(record.bytes, 12), sizes[i]) << "original length of record " << i;
    EXPECT_THAT(Receive(monitor.get(), absl::Seconds(5), sizes[i]), IsPacket(Frame(sizes[i], i)));
  }
  EXPECT_THAT(ReadNow(monitor.get()), FailsWith(EAGAIN));
}

TEST_F(CaptureTest, SmallReadsReassembleTheStreamExactly) {
  Fd monitor = Open(PathOf(".pcap/net0"), O_RDONLY);
  Fd writer = Open(PathOf("net0"), O_WRONLY);
  const std::vector<size_t> sizes = {60, 33, 200};
  size_t total = 24;
  for (size_t i = 0; i < sizes.size(); ++i) {
    ASSERT_THAT(Send(writer.get(), Frame(sizes[i], i)), Wrote(sizes[i]));
    total += 16 + sizes[i];
  }
  std::string stream;
  while (stream.size() < total) {
    IoResult piece = Receive(monitor.get(), absl::Seconds(5), 7);
    ASSERT_EQ(piece.error, 0) << "after " << stream.size()
                              << " bytes: " << std::strerror(piece.error);
    ASSERT_LE(piece.bytes.size(), 7u);
    ASSERT_GT(piece.bytes.size(), 0u);
    stream += piece.bytes;
  }
  EXPECT_EQ(stream.size(), total);
  EXPECT_EQ(LittleEndian32(stream, 0), 0xa1b2c3d4u);
  size_t offset = 24;
  for (size_t i = 0; i < sizes.size() && offset + 16 <= stream.size(); ++i) {
    EXPECT_EQ(LittleEndian32(stream, offset + 8), sizes[i]) << "record " << i;
    EXPECT_EQ(stream.substr(offset + 16, sizes[i]), Frame(sizes[i], i)) << "record " << i;
    offset += 16 + sizes[i];
  }
}

TEST_F(CaptureTest, MonitorIsNeverADestinationOfThePolicy) {
  ASSERT_EQ(SetXattr(PathOf("net0"), "user.ipn.policy", "anycast"), 0);
  Fd producer = Open(PathOf("net0"), O_WRONLY);
  Fd worker = Open(PathOf("net0"), O_RDONLY);
  Fd monitor = Open(PathOf(".pcap/net0"), O_RDONLY);
  ASSERT_EQ(ReadGlobalHeader(monitor).size(), 24u);
  for (int i = 0; i < 4; ++i) ASSERT_THAT(Send(producer.get(), Frame(60, i)), Wrote(60));
  for (int i = 0; i < 4; ++i) {
    EXPECT_THAT(ReadNow(worker.get()), IsPacket(Frame(60, i))) << "the worker lost a job";
    EXPECT_EQ(Receive(monitor.get(), absl::Seconds(5), 16).bytes.size(), 16u);
    EXPECT_THAT(Receive(monitor.get(), absl::Seconds(5), 60), IsPacket(Frame(60, i)));
  }
}

TEST_F(CaptureTest, MonitorOfANetworkInADirectoryIsAtTheSamePathUnderPcap) {
  ASSERT_EQ(::mkdir(PathOf("lab").c_str(), 0755), 0);
  ASSERT_EQ(::mknod(PathOf("lab/net1").c_str(), S_IFREG | 0644, 0), 0);
  Fd monitor = Open(PathOf(".pcap/lab/net1"), O_RDONLY);
  ASSERT_TRUE(monitor.valid()) << std::strerror(errno);
  ASSERT_EQ(ReadGlobalHeader(monitor).size(), 24u);
  Fd writer = Open(PathOf("lab/net1"), O_WRONLY);
  Fd elsewhere = Open(PathOf("net0"), O_WRONLY);
  ASSERT_THAT(Send(elsewhere.get(), Frame(60, 0)), Wrote(60));
  ASSERT_THAT(Send(writer.get(), Frame(70, 1)), Wrote(70));
  IoResult record = Receive(monitor.get(), absl::Seconds(5), 16);
  ASSERT_EQ(record.bytes.size(), 16u);
  EXPECT_EQ(LittleEndian32(record.bytes, 8), 70u) << "the monitor saw another network's packet";
  EXPECT_THAT(Receive(monitor.get(), absl::Seconds(5), 70), IsPacket(Frame(70, 1)));
}

TEST_F(CaptureTest, PcapMirrorListsDirectoriesAndNetworksButNoSymlinks) {
  CommandResult made = Shell("mkdir -p lab/empty && touch lab/net1 && ln -s net0 link");
  ASSERT_EQ(made.exit_code, 0) << made;
  CommandResult listing = Shell("ls -R .pcap");
  EXPECT_EQ(listing.out, ".pcap:\nlab\nnet0\n\n.pcap/lab:\nempty\nnet1\n\n.pcap/lab/empty:\n")
      << listing;
}

TEST_F(CaptureTest, PcapAndEventsCannotBeCreatedAtTheRoot) {
  for (const std::string name : {".pcap", ".events"}) {
    EXPECT_FALSE(Open(PathOf(name), O_WRONLY | O_CREAT | O_EXCL, 0644).valid());
    EXPECT_EQ(errno, EEXIST) << name;
    EXPECT_NE(::mkdir(PathOf(name).c_str(), 0755), 0);
    EXPECT_EQ(errno, EEXIST) << name;
    EXPECT_NE(::mknod(PathOf(name).c_str(), S_IFREG | 0644, 0), 0);
    EXPECT_EQ(errno, EEXIST) << name;
  }
}

TEST_F(CaptureTest, WritingIntoTheMirrorFailsWithErofs) {
  for (int flags : {O_WRONLY, O_RDWR}) {
    EXPECT_FALSE(Open(PathOf(".pcap/net0"), flags).valid());
    EXPECT_EQ(errno, EROFS) << "flags " << flags;
  }
  EXPECT_FALSE(Open(PathOf(".pcap/new"), O_WRONLY | O_CREAT, 0644).valid());
  EXPECT_EQ(errno, EROFS);
  EXPECT_NE(::mkdir(PathOf(".pcap/dir").c_str(), 0755), 0);
  EXPECT_EQ(errno, EROFS);
}

TEST_F(CaptureTest, OpeningAMonitorNeedsReadPermissionOnTheNetwork) {
  CommandResult made = Shell("touch secret && chmod 640 secret && touch open && chmod 604 open");
  ASSERT_EQ(made.exit_code, 0) << made;
  CommandResult secret = Shell("exec 3< .pcap/secret && echo joined", Nobody());
  CommandResult open = Shell("exec 3< .pcap/open && echo joined", Nobody());
  EXPECT_THAT(secret.err, HasSubstr("Permission denied")) << secret;
  EXPECT_EQ(secret.out, "") << secret;
  EXPECT_EQ(open.out, "joined\n") << open;
}

TEST_F(CaptureTest, MonitorThatDoesNotReadCountsItsDrops) {
  ASSERT_EQ(SetXattr(PathOf("net0"), "user.ipn.qlen", "4"), 0);
  Fd monitor = Open(PathOf(".pcap/net0"), O_RDONLY);
  ASSERT_TRUE(monitor.valid()) << std::strerror(errno);
  Fd writer = Open(PathOf("net0"), O_WRONLY);
  for (int i = 0; i < 10; ++i) ASSERT_THAT(Send(writer.get(), Frame(60, i)), Wrote(60));
  EXPECT_EQ(StatsOf(PathOf("net0"))["drops_queue_full"], 6);
  PortLine line;
  for (PortLine& port : PortsOf(PathOf("net0"))) {
    if (port["mode"] == "monitor") line = port;
  }
  EXPECT_EQ(line["queued"], "4");
  EXPECT_EQ(line["dropped"], "6");
}

}  // namespace
}  // namespace ipnfs::tests
