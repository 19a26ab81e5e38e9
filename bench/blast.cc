// blast: one client of the ipnfs benchmark (scripts/bench.sh), sender or receiver.
//
// The sender sends identical Ethernet frames (EtherType 0x88b5, source MAC 02:69:70:6e:00:ID) as
// fast as the path takes them, `--batch` per Endpoint::Send, until `--count` frames or
// `--seconds`, whichever comes first, and prints "sent N ELAPSED_NS ERRORS".
// A receiver first sends one broadcast "hello" frame (so that learning switches learn its MAC),
// prints "ready", then counts the benchmark's data frames until SIGTERM, SIGINT or `--deadline`,
// and prints "received N". It prints from the signal handler, with async-signal-safe calls only,
// so a signal that lands just before a blocking receive is never lost.
// Single-threaded. Setup failures exit 1 with a message on stderr.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "bench/endpoint.h"

ABSL_FLAG(std::string, role, "", "send or recv");
ABSL_FLAG(std::string, endpoint, "", "KIND:ARG, see bench/endpoint.h");
ABSL_FLAG(int, id, 0, "this client's number, 0..255: its MAC is 02:69:70:6e:00:ID");
ABSL_FLAG(std::string, dst, "broadcast", "sender: destination, a client number or broadcast");
ABSL_FLAG(int, size, 64, "frame size in bytes, Ethernet header included, no FCS (20..1514)");
ABSL_FLAG(int, batch, 64, "frames per Endpoint::Send (one write for framed endpoints)");
ABSL_FLAG(double, seconds, 2, "sender: stop after this long");
ABSL_FLAG(int64_t, count, 200000, "sender: stop after this many frames");
ABSL_FLAG(double, deadline, 30, "exit after this long in any case (receiver: with its count)");
ABSL_FLAG(bool, hello, true, "receiver: send one frame first so learning switches learn its MAC");

namespace ipnfs::bench {
namespace {

constexpr uint8_t kEtherType[2] = {0x88, 0xb5};
constexpr uint8_t kMagic[4] = {'I', 'P', 'N', 'B'};
enum Kind : uint8_t { kData = 1, kHello = 2 };
// Ethernet header, magic, kind.
constexpr size_t kHeaderBytes = 14 + sizeof(kMagic) + 1;

// Data frames counted so far by this receiver; read by the signal handler.
std::atomic<uint64_t> received{0};
static_assert(std::atomic<uint64_t>::is_always_lock_free);

std::vector<uint8_t> Mac(int id) { return {0x02, 0x69, 0x70, 0x6e, 0x00, uint8_t(id)}; }

// A frame of `size` bytes from client `src` to MAC `dst`, zero-padded after the kind byte.
std::vector<uint8_t> BuildFrame(size_t size, const std::vector<uint8_t>& dst, int src, Kind kind) {
  std::vector<uint8_t> frame(size);
  const std::vector<uint8_t> src_mac = Mac(src);
  std::copy(dst.begin(), dst.end(), frame.begin());
  std::copy(src_mac.begin(), src_mac.end(), frame.begin() + 6);
  std::memcpy(frame.data() + 12, kEtherType, 2);
  std::memcpy(frame.data() + 14, kMagic, sizeof(kMagic));
  frame[14 + sizeof(kMagic)] = kind;
  return frame;
}

bool IsData(Frame frame) {
  return frame.size() >= kHeaderBytes && std::memcmp(frame.data() + 12, kEtherType, 2) == 0 &&
         std::memcmp(frame.data() + 14, kMagic, sizeof(kMagic)) == 0 &&
         frame[14 + sizeof(kMagic)] == kData;
}

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Async-signal-safe: writes "received N\n" to stdout and exits with `status`.
[[noreturn]] void ReportAndExit(int status) {
  char digits[24];
  size_t n = 0;
  uint64_t value = received.load(std::memory_order_relaxed);
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  char line[48] = "received ";
  size_t length = std::strlen(line);
  while (n > 0) line[length++] = digits[--n];
  line[length++] = '\n';
  ssize_t ignored = write(STDOUT_FILENO, line, length);
  (void)ignored;
  _exit(status);
}

extern "C" void OnStop(int) { ReportAndExit(0); }

// Deadline in whole seconds for alarm(2), at least 1.
unsigned AlarmSeconds(double seconds) { return std::max(1u, unsigned(std::ceil(seconds))); }

int RunReceiver(Endpoint& endpoint, int id, size_t size, bool hello) {
  struct sigaction action {};
  action.sa_handler = OnStop;  // No SA_RESTART: a blocking receive ends with EINTR at worst.
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGTERM, SIGINT, SIGALRM}) sigaction(signal_number, &action, nullptr);
  alarm(AlarmSeconds(absl::GetFlag(FLAGS_deadline)));
  if (hello) {
    const std::vector<uint8_t> frame = BuildFrame(size, std::vector<uint8_t>(6, 0xff), id, kHello);
    if (const int sent = endpoint.Send(frame, 1); sent < 0) {
      std::fprintf(stderr, "blast: hello: %s\n", std::strerror(-sent));
      return 1;
    }
  }
  std::printf("ready\n");
  std::fflush(stdout);
  const auto count = [](Frame frame) {
    if (!IsData(frame)) return;
    received.store(received.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  };
  while (true) {
    const int frames = endpoint.Receive(count);
    if (frames < 0 && frames != -EINTR) {
      std::fprintf(stderr, "blast: receive: %s\n", std::strerror(-frames));
      ReportAndExit(1);
    }
  }
}

int RunSender(Endpoint& endpoint, int id, size_t size, const std::string& dst) {
  alarm(AlarmSeconds(absl::GetFlag(FLAGS_deadline)));  // Default action: end the process.
  const std::vector<uint8_t> dst_mac =
      dst == "broadcast" ? std::vector<uint8_t>(6, 0xff) : Mac(std::stoi(dst));
  const std::vector<uint8_t> frame = BuildFrame(size, dst_mac, id, kData);
  const int batch = std::max(1, absl::GetFlag(FLAGS_batch));
  const int64_t count = absl::GetFlag(FLAGS_count);
  const int64_t limit_ns = static_cast<int64_t>(absl::GetFlag(FLAGS_seconds) * 1e9);
  int64_t sent = 0;
  int64_t errors = 0;
  const int64_t start = NowNs();
  int64_t now = start;
  while (sent < count && now - start < limit_ns) {
    const int n = endpoint.Send(frame, static_cast<int>(std::min<int64_t>(batch, count - sent)));
    now = NowNs();
    if (n > 0) {
      sent += n;
    } else if (n == -ENOBUFS || n == -EAGAIN || n == -EINTR) {
      ++errors;  // A full path: try again.
    } else {
      std::fprintf(stderr, "blast: send: %s\n", std::strerror(-n));
      return 1;
    }
  }
  std::printf("sent %lld %lld %lld\n", static_cast<long long>(sent),
              static_cast<long long>(now - start), static_cast<long long>(errors));
  return 0;
}

}  // namespace
}  // namespace ipnfs::bench

int main(int argc, char** argv) {
  namespace bench = ipnfs::bench;
  absl::ParseCommandLine(argc, argv);
  const std::string role = absl::GetFlag(FLAGS_role);
  const int id = absl::GetFlag(FLAGS_id);
  const int size = absl::GetFlag(FLAGS_size);
  if ((role != "send" && role != "recv") || id < 0 || id > 255 || size < 20 || size > 1514) {
    std::fprintf(stderr, "blast: want --role=send|recv, --id=0..255, --size=20..1514\n");
    return 2;
  }
  const bench::EndpointOptions options{
      .role = role == "send" ? bench::Role::kSender : bench::Role::kReceiver,
      .frame_size = static_cast<size_t>(size),
      .batch = absl::GetFlag(FLAGS_batch)};
  std::unique_ptr<bench::Endpoint> endpoint =
      bench::OpenEndpoint(absl::GetFlag(FLAGS_endpoint), options);
  if (role == "send") return bench::RunSender(*endpoint, id, size, absl::GetFlag(FLAGS_dst));
  return bench::RunReceiver(*endpoint, id, size, absl::GetFlag(FLAGS_hello));
}
