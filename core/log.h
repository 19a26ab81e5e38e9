// A small logging facade, named after ABSL_LOG so that moving to absl/log later is mechanical.
//
//   IPN_LOG(INFO) << "mounted on " << path;
//
// Lines go to stderr as "I 16:00:00.123456 file.cc:42] message". Thread-safe: each line is
// written with one write(2). The level is process-wide (SetLogLevel); lines below it cost one
// comparison.
#ifndef IPNFS_CORE_LOG_H_
#define IPNFS_CORE_LOG_H_

#include <sstream>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ipnfs {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3, kFatal = 4 };

// Parses "debug", "info", "warning" or "error".
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name);
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

namespace log_internal {

// One log line; written when destroyed. kFatal aborts after writing.
class LogLine {
 public:
  LogLine(LogLevel level, const char* file, int line);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

// Lets IPN_LOG be used as a statement that evaluates its operands only when enabled.
struct Voidify {
  void operator&(std::ostream&) {}
};

}  // namespace log_internal
}  // namespace ipnfs

#define IPN_LOG_LEVEL_DEBUG ::ipnfs::LogLevel::kDebug
#define IPN_LOG_LEVEL_INFO ::ipnfs::LogLevel::kInfo
#define IPN_LOG_LEVEL_WARNING ::ipnfs::LogLevel::kWarning
#define IPN_LOG_LEVEL_ERROR ::ipnfs::LogLevel::kError
#define IPN_LOG_LEVEL_FATAL ::ipnfs::LogLevel::kFatal

#define IPN_LOG(severity)                        \
  !::ipnfs::LogEnabled(IPN_LOG_LEVEL_##severity) \
      ? (void)0                                  \
      : ::ipnfs::log_internal::Voidify() &       \
            ::ipnfs::log_internal::LogLine(IPN_LOG_LEVEL_##severity, __FILE__, __LINE__).stream()

// Aborts with a message when a broken invariant is found.
#define IPN_CHECK(condition) \
  (condition) ? (void)0 : IPN_LOG(FATAL) << "Check failed: " #condition " "

#endif  // IPNFS_CORE_LOG_H_
