// ipnfs: Inter Process Networking as a filesystem. Every file under the mount point is a network;
// open() joins it, write() sends one packet, read() receives one.
//
// Flags live here only and are passed down as option structs.
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/log.h"
#include "core/namespace.h"
#include "core/state_codec.h"
#include "core/state_file.h"
#include "fs/fuse_filesystem.h"
#include "fs/fuse_mount.h"
#include "fs/ticker.h"
#include "tap/tap_backend.h"

ABSL_FLAG(bool, foreground, true, "Stay in the foreground (false: detach once mounted).");
ABSL_FLAG(std::string, state, "",
          "State file that keeps the namespace across restarts (default: one per mount point "
          "under /var/lib/ipnfs/ as root, else under $XDG_STATE_HOME/ipnfs/; 'none': keep "
          "nothing).");
ABSL_FLAG(bool, allow_other, geteuid() == 0,
          "Let other users use the mount (file permissions still apply). Default: on as root.");
ABSL_FLAG(std::string, log_level, "info", "Least severity logged: debug, info, warning, error.");
ABSL_FLAG(std::string, root_mode, "1777",
          "Octal mode of the mount's root directory (1777: anyone creates networks, like /tmp).");
ABSL_FLAG(int, threads, 16, "Threads serving FUSE requests through /dev/fuse, at most.");
ABSL_FLAG(std::string, fuse_uring, "auto",
          "FUSE-over-io_uring: one ring and thread per CPU, each serving the processes on its CPU. "
          "auto: when the kernel offers it (/sys/module/fuse/parameters/enable_uring=Y); on: turn "
          "that parameter on (root) and refuse to start without it; off: /dev/fuse only.");
ABSL_FLAG(int, busy_poll_us, 0,
          "Spin this many microseconds for the next FUSE request (with io_uring) and the next "
          "tap frame before sleeping, trading CPU time for latency (like SO_BUSY_POLL). 0: sleep "
          "at once.");

namespace ipnfs {
namespace {

constexpr char kUsage[] =
    "Usage: ipnfs [flags] MOUNTPOINT\n"
    "Mounts ipnfs on MOUNTPOINT: every file created there is a virtual network.\n"
    "open() joins it, write() sends one packet, read() receives one packet, close() leaves.";

// Prints the usage and the flags of this binary; absl's own --help exits 1.
void PrintHelp() {
  std::cout << kUsage << "\n\nFlags:\n";
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!absl::StrContains(flag->Filename(), "fs/main.cc")) continue;
    std::cout << "  --" << name << " (default: " << flag->DefaultValue() << ")\n      "
              << flag->Help() << "\n";
  }
}

bool WantsHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "-help") return true;
  }
  return false;
}

// Loads the state file (the flag's, or the mount point's default) into `tree`. A file that cannot
// be read or parsed is an error, and is left as it is.
absl::StatusOr<std::unique_ptr<StateFile>> RestoreState(Namespace& tree, std::string path,
                                                        const std::string& mount_point) {
  if (path.empty()) {
    char real[PATH_MAX];
    const char* absolute = ::realpath(mount_point.c_str(), real);
    path = DefaultStatePath(absolute ? absolute : mount_point, geteuid() == 0);
  }
  auto file = std::make_unique<StateFile>(path);
  absl::StatusOr<std::optional<std::string>> text = file->Load();
  if (!text.ok()) return text.status();
  if (!text->has_value()) {
    IPN_LOG(INFO) << "state file " << path << " does not exist yet: starting empty";
    return file;
  }
  absl::StatusOr<std::vector<StateEntry>> entries = DecodeState(**text);
  absl::Status restored = entries.ok() ? tree.Restore(*entries, absl::Now()) : entries.status();
  if (!restored.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("state file ", path, " cannot be used (",
                                                   restored.message(),
                                                   "); refusing to start, file left untouched"));
  }
  IPN_LOG(INFO) << "restored " << entries->size() << " entries from " << path;
  return file;
}

int Fail(const std::string& message) {
  std::cerr << "ipnfs: " << message << "\n";
  return 1;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  if (WantsHelp(argc, argv)) {
    PrintHelp();
    return 0;
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() != 2) return Fail("expected one MOUNTPOINT (see --help)");
  const std::string mount_point = positional[1];

  absl::StatusOr<LogLevel> level = ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok()) return Fail(std::string(level.status().message()));
  SetLogLevel(*level);
  unsigned root_mode = 0;
  if (!absl::numbers_internal::safe_strtou32_base(absl::GetFlag(FLAGS_root_mode), &root_mode, 8) ||
      root_mode > 07777) {
    return Fail("--root_mode must be an octal mode such as 1777");
  }
  absl::StatusOr<FuseUringMode> uring_mode = ParseFuseUringMode(absl::GetFlag(FLAGS_fuse_uring));
  if (!uring_mode.ok()) return Fail(std::string(uring_mode.status().message()));
  const int busy_poll_us = absl::GetFlag(FLAGS_busy_poll_us);
  if (busy_poll_us < 0 || busy_poll_us > 1000000) {
    return Fail("--busy_poll_us must be between 0 and 1000000");
  }
  if (absl::Status usable = CheckMountPoint(mount_point); !usable.ok()) {
    return Fail(std::string(usable.message()));
  }

  Namespace::Options tree_options;
  tree_options.root_mode = root_mode;
  tree_options.root_uid = geteuid();
  tree_options.root_gid = getegid();
  // Threads inherit the signal mask: the daemon's own threads (tap loop, ticker) must leave the
  // stop signals to the main thread, where libfuse waits for them.
  sigset_t stop_signals, previous_mask;
  sigemptyset(&stop_signals);
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&stop_signals, signal);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous_mask);

  // Packets of up to 64 KiB (GSO packets from taps) are allocated and freed at a high rate, on
  // several threads: keep freed heap memory for reuse instead of giving it back to the kernel
  // after every burst (which costs a page fault per 4 KiB on the next allocation).
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
#ifdef NDEBUG
  // Debian's Abseil is built to check lock order on every Mutex::Lock: about 1% of the daemon's
  // time in profiles. Optimized builds skip it, as upstream Abseil's do; test builds (no NDEBUG)
  // keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif

  // Declared before the namespace so that it outlives it; destroying it deletes the taps.
  std::unique_ptr<TapBackend> taps;
  LinkLoopOptions tap_options;
  tap_options.busy_poll = absl::Microseconds(busy_poll_us);
  if (absl::StatusOr<std::unique_ptr<TapBackend>> backend = TapBackend::Create(tap_options);
      backend.ok()) {
    taps = *std::move(backend);
  } else {
    IPN_LOG(WARNING) << "no tap backend (user.ipn.tap and user.ipn.grab are unavailable): "
                     << backend.status().message();
  }
  Namespace tree(tree_options, absl::Now());
  if (taps) tree.SetInterfaceBackend(taps.get());
  std::unique_ptr<StateFile> state;
  if (absl::GetFlag(FLAGS_state) != "none") {
    absl::StatusOr<std::unique_ptr<StateFile>> restored =
        RestoreState(tree, absl::GetFlag(FLAGS_state), mount_point);
    if (!restored.ok()) return Fail(std::string(restored.status().message()));
    state = *std::move(restored);
    tree.SetStateSink(state.get());
  }
  FuseFilesystem filesystem(tree);
  Ticker ticker(absl::Milliseconds(20), [&tree](absl::Time now) { tree.Tick(now); });

  MountOptions mount_options{.mount_point = mount_point,
                             .allow_other = absl::GetFlag(FLAGS_allow_other),
                             .max_threads = absl::GetFlag(FLAGS_threads),
                             .transport = {.uring = *uring_mode,
                                           .busy_poll = absl::Microseconds(busy_poll_us)}};
  const fuse_lowlevel_ops ops = FuseFilesystem::Operations();
  absl::StatusOr<std::unique_ptr<FuseMount>> mount =
      FuseMount::Create(mount_options, ops, &filesystem);
  if (!mount.ok()) return Fail(std::string(mount.status().message()));
  if (!absl::GetFlag(FLAGS_foreground) && fuse_daemonize(/*foreground=*/0) != 0) {
    return Fail("cannot detach");
  }
  pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
  IPN_LOG(INFO) << "ipnfs mounted on " << mount_point;
  absl::Status served = (*mount)->Run();
  filesystem.CloseAll();  // While the session can still carry the replies.
  mount->reset();         // Unmounts.
  if (!served.ok()) return Fail(std::string(served.message()));
  IPN_LOG(INFO) << "ipnfs unmounted from " << mount_point;
  return 0;
}

}  // namespace
}  // namespace ipnfs

int main(int argc, char** argv) { return ipnfs::Main(argc, argv); }
