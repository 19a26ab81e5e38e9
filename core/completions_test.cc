// Tests for Completions: nothing is answered while it lives, everything once it is destroyed.
#include "core/completions.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/packet.h"
#include "core/waiters.h"

namespace ipnfs {
namespace {

// Every waiter appends what happened to it to one shared log.
using Log = std::vector<std::string>;

class LoggingReadWaiter final : public ReadWaiter {
 public:
  LoggingReadWaiter(std::string name, Log& log) : ReadWaiter(1, 1500), name_(name), log_(log) {}
  bool Abandoned() const override { return false; }
  void Complete(const Packet& packet) override {
    log_.push_back(name_ + " read " + std::to_string(packet.size()));
  }
  void CompleteFrames(std::vector<PacketRef> packets) override {
    log_.push_back(name_ + " read frames " + std::to_string(packets.size()));
  }
  void Fail(int error_number) override {
    log_.push_back(name_ + " failed " + std::to_string(error_number));
  }

 private:
  const std::string name_;
  Log& log_;
};

class LoggingSendWaiter final : public SendWaiter {
 public:
  LoggingSendWaiter(std::string name, Log& log) : SendWaiter(1), name_(name), log_(log) {}
  bool Abandoned() const override { return false; }
  void Complete() override { log_.push_back(name_ + " sent"); }
  void Fail(int error_number) override {
    log_.push_back(name_ + " failed " + std::to_string(error_number));
  }

 private:
  const std::string name_;
  Log& log_;
};

class LoggingPollWaiter final : public PollWaiter {
 public:
  LoggingPollWaiter(std::string name, Log& log) : name_(name), log_(log) {}
  void Notify() override { log_.push_back(name_ + " notified"); }

 private:
  const std::string name_;
  Log& log_;
};

PacketRef PacketOf(size_t size) {
  return Packet::Create(std::vector<uint8_t>(size, 7), absl::FromUnixSeconds(1));
}

TEST(Completions, AnswersNothingUntilItIsDestroyed) {
  Log log;
  {
    Completions done;
    done.Complete(std::make_unique<LoggingReadWaiter>("r", log), PacketOf(3));
    done.Complete(std::make_unique<LoggingSendWaiter>("s", log));
    done.Notify(std::make_unique<LoggingPollWaiter>("p", log));

    EXPECT_TRUE(log.empty());
  }
  EXPECT_EQ(log.size(), 3u);
}

TEST(Completions, AnswersReadsThenFailedReadsThenSendsThenFailedSendsThenPolls) {
  Log log;
  {
    Completions done;
    done.Notify(std::make_unique<LoggingPollWaiter>("p", log));
    done.Fail(std::make_unique<LoggingSendWaiter>("s2", log), EBADF);
    done.Complete(std::make_unique<LoggingSendWaiter>("s1", log));
    done.Fail(std::make_unique<LoggingReadWaiter>("r3", log), EINTR);
    done.Complete(std::make_unique<LoggingReadWaiter>("r2", log),
                  std::vector<PacketRef>{PacketOf(1), PacketOf(2)});
    done.Complete(std::make_unique<LoggingReadWaiter>("r1", log), PacketOf(5));
  }
  EXPECT_EQ(log, (Log{"r1 read 5", "r2 read frames 2", "r3 failed " + std::to_string(EINTR),
                      "s1 sent", "s2 failed " + std::to_string(EBADF), "p notified"}));
}

TEST(Completions, AnswersEachKindInTheOrderRecorded) {
  Log log;
  {
    Completions done;
    done.Complete(std::make_unique<LoggingReadWaiter>("first", log), PacketOf(1));
    done.Complete(std::make_unique<LoggingReadWaiter>("second", log), PacketOf(2));
  }
  EXPECT_EQ(log, (Log{"first read 1", "second read 2"}));
}

}  // namespace
}  // namespace ipnfs
