// ipnfs: Inter Process Networking as a filesystem. Every file under the mount point is a network;
// open() joins it, write() sends one packet, read() receives one.
//
// Flags live here only: ParseOptions() turns them into a DaemonOptions, Run() mounts and serves
// with it. Runs on the main thread, which waits for the stop signals while libfuse serves.
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/log.h"
#include "core/namespace.h"
#include "core/state_codec.h"
#include "core/state_file.h"
#include "fs/background.h"
#include "fs/fuse_filesystem.h"
#include "fs/fuse_mount.h"
#include "fs/ticker.h"
#include "sock/socket_faces.h"
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

// What the command line asks for, checked.
struct DaemonOptions {
  std::string mount_point;
  bool foreground = true;
  std::string state;  // --state: a path, empty for the mount point's default, or "none".
  bool allow_other = false;
  LogLevel log_level = LogLevel::kInfo;
  mode_t root_mode = 01777;
  int threads = 16;
  FuseUringMode fuse_uring = FuseUringMode::kAuto;
  absl::Duration busy_poll;
};

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

int Fail(absl::string_view message) {
  std::cerr << "ipnfs: " << message << "\n";
  return 1;
}

// An octal mode of at most 07777, such as "1777"; white space around it and a leading '+' are
// accepted, as by Abseil's number parsers.
std::optional<mode_t> ParseOctalMode(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  absl::ConsumePrefix(&text, "+");
  const char* const end = text.data() + text.size();
  unsigned mode = 0;
  const auto [stop, error] = std::from_chars(text.data(), end, mode, 8);
  if (text.empty() || error != std::errc() || stop != end || mode > 07777) return std::nullopt;
  return static_cast<mode_t>(mode);
}

// The options the flags and the `positional` arguments (the program, then the mount point) give;
// the first problem as a one-line message.
absl::StatusOr<DaemonOptions> ParseOptions(const std::vector<char*>& positional) {
  if (positional.size() != 2)
    return absl::InvalidArgumentError("expected one MOUNTPOINT (see --help)");
  DaemonOptions options;
  options.mount_point = positional[1];
  absl::StatusOr<LogLevel> level = ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok()) return level.status();
  options.log_level = *level;
  std::optional<mode_t> root_mode = ParseOctalMode(absl::GetFlag(FLAGS_root_mode));
  if (!root_mode)
    return absl::InvalidArgumentError("--root_mode must be an octal mode such as 1777");
  options.root_mode = *root_mode;
  absl::StatusOr<FuseUringMode> uring = ParseFuseUringMode(absl::GetFlag(FLAGS_fuse_uring));
  if (!uring.ok()) return uring.status();
  options.fuse_uring = *uring;
  const int busy_poll_us = absl::GetFlag(FLAGS_busy_poll_us);
  if (busy_poll_us < 0 || busy_poll_us > 1000000) {
    return absl::InvalidArgumentError("--busy_poll_us must be between 0 and 1000000");
  }
  options.busy_poll = absl::Microseconds(busy_poll_us);
  if (absl::Status usable = CheckMountPoint(options.mount_point); !usable.ok()) return usable;
  options.foreground = absl::GetFlag(FLAGS_foreground);
  options.state = absl::GetFlag(FLAGS_state);
  options.allow_other = absl::GetFlag(FLAGS_allow_other);
  options.threads = absl::GetFlag(FLAGS_threads);
  return options;
}

// Blocks the stop signals and returns the mask before. Threads inherit the mask: the daemon's
// own threads (tap loop, ticker) must leave the stop signals to the main thread, where libfuse
// waits for them.
sigset_t BlockStopSignals() {
  sigset_t stop_signals, previous_mask;
  sigemptyset(&stop_signals);
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&stop_signals, signal);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous_mask);
  return previous_mask;
}

void TuneProcess() {
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
}

// The tap backend, or null (logged) when this machine cannot have one.
std::unique_ptr<TapBackend> CreateTaps(absl::Duration busy_poll) {
  LinkLoopOptions tap_options;
  tap_options.busy_poll = busy_poll;
  absl::StatusOr<std::unique_ptr<TapBackend>> backend = TapBackend::Create(tap_options);
  if (backend.ok()) return *std::move(backend);
  IPN_LOG(WARNING) << "no tap backend (user.ipn.tap and user.ipn.grab are unavailable): "
                   << backend.status().message();
  return nullptr;
}

// Loads the state file (the flag's, or the mount point's default) into `tree`; null with
// --state=none. A file that cannot be read or parsed is an error, and is left as it is.
absl::StatusOr<std::unique_ptr<StateFile>> RestoreState(Namespace& tree,
                                                        const DaemonOptions& options) {
  if (options.state == "none") return nullptr;
  std::string path = options.state;
  if (path.empty()) {
    char real[PATH_MAX];
    const char* absolute = ::realpath(options.mount_point.c_str(), real);
    path = DefaultStatePath(absolute ? absolute : options.mount_point, geteuid() == 0);
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

// The socket faces of every network (/.seqpacket, /.stream); null (logged) when this machine cannot
// have them.
std::unique_ptr<SocketFaces> CreateFaces(Namespace& tree, absl::Duration busy_poll) {
  SocketFacesOptions face_options;
  face_options.busy_poll = busy_poll;
  absl::StatusOr<std::unique_ptr<SocketFaces>> faces = SocketFaces::Create(tree, face_options);
  if (!faces.ok()) {
    IPN_LOG(WARNING) << "no socket faces (/.seqpacket and /.stream stay empty): "
                     << faces.status().message();
    return nullptr;
  }
  return *std::move(faces);
}

// Mounts `filesystem`, restores `signal_mask` and serves until a stop signal or an unmount, then
// closes every open file and unmounts. The socket faces live while the mount is served: made
// once detached from the terminal (threads do not survive a fork), they bind the faces of the
// restored networks before the mount is attached where users reach it; closed before the open
// files. The exit code.
int Serve(const DaemonOptions& options, Namespace& tree, FuseFilesystem& filesystem,
          const sigset_t& signal_mask) {
  const MountOptions mount_options{
      .mount_point = options.mount_point,
      .allow_other = options.allow_other,
      .max_threads = options.threads,
      .transport = {.uring = options.fuse_uring, .busy_poll = options.busy_poll}};
  const fuse_lowlevel_ops ops = FuseFilesystem::Operations();
  absl::StatusOr<std::unique_ptr<FuseMount>> mount =
      FuseMount::Create(mount_options, ops, &filesystem);
  if (!mount.ok()) return Fail(mount.status().message());
  absl::StatusOr<std::unique_ptr<Background>> background = Background::Start(options.foreground);
  if (!background.ok()) return Fail(background.status().message());
  FuseMount& served_mount = **mount;
  auto attach = [&served_mount, &background, &options] {
    if (absl::Status attached = served_mount.Attach(); !attached.ok()) {
      IPN_LOG(ERROR) << attached.message();
      kill(getpid(), SIGTERM);  // Ends the session: nobody can reach it.
      return;
    }
    IPN_LOG(INFO) << "ipnfs mounted on " << options.mount_point;
    (*background)->Ready();
  };
  std::unique_ptr<SocketFaces> faces = CreateFaces(tree, options.busy_poll);
  if (faces != nullptr) {
    filesystem.SetFaceBackend(faces.get());
    tree.SetFaceBackend(faces.get());
    char real[PATH_MAX];
    const char* absolute = ::realpath(options.mount_point.c_str(), real);
    faces->Start(FaceMount{.mount_point = absolute ? absolute : options.mount_point,
                           .clone = [&served_mount] { return served_mount.Clone(); },
                           .attach = attach});
  } else {
    attach();
  }
  pthread_sigmask(SIG_SETMASK, &signal_mask, nullptr);
  absl::Status served = (*mount)->Run();
  if (faces != nullptr) faces->Close();  // Answers creations still waiting for their faces.
  tree.SetFaceBackend(nullptr);
  filesystem.CloseAll();  // While the session can still carry the replies.
  mount->reset();         // Unmounts; a request of the binder still pending fails.
  if (faces != nullptr) faces->Stop();
  if (!served.ok()) return Fail(served.message());
  IPN_LOG(INFO) << "ipnfs unmounted from " << options.mount_point;
  return 0;
}

// Builds the daemon (taps, namespace, state, filesystem, ticker), serves, and tears it down in
// the reverse order. The exit code.
int Run(const DaemonOptions& options) {
  const sigset_t previous_mask = BlockStopSignals();
  TuneProcess();
  // Declared before the namespace so that it outlives it; destroying it deletes the taps.
  std::unique_ptr<TapBackend> taps = CreateTaps(options.busy_poll);
  Namespace::Options tree_options;
  tree_options.root_mode = options.root_mode;
  tree_options.root_uid = geteuid();
  tree_options.root_gid = getegid();
  Namespace tree(tree_options, absl::Now());
  if (taps) tree.SetInterfaceBackend(taps.get());
  absl::StatusOr<std::unique_ptr<StateFile>> state = RestoreState(tree, options);
  if (!state.ok()) return Fail(state.status().message());
  if (*state) tree.SetStateSink(state->get());
  FuseFilesystem filesystem(tree);
  Ticker ticker(absl::Milliseconds(20), [&tree](absl::Time now) { tree.Tick(now); });
  return Serve(options, tree, filesystem, previous_mask);
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  if (WantsHelp(argc, argv)) {
    PrintHelp();
    return 0;
  }
  absl::StatusOr<DaemonOptions> options = ParseOptions(absl::ParseCommandLine(argc, argv));
  if (!options.ok()) return Fail(options.status().message());
  SetLogLevel(options->log_level);
  return Run(*options);
}

}  // namespace
}  // namespace ipnfs

int main(int argc, char** argv) { return ipnfs::Main(argc, argv); }
