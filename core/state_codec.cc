#include "core/state_codec.h"

#include <cstdint>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace ipnfs {
namespace {

constexpr absl::string_view kMagic = "ipnfs-state 1";

bool IsPlain(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
         c == '/' || c == '+' || c == ',' || c == ':' || c == '@' || c == '~';
}

std::string Encode(absl::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : raw) {
    if (IsPlain(c)) {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += {'%', kHex[byte >> 4], kHex[byte & 15]};
    }
  }
  return out.empty() ? "%" : out;  // A lone '%' stands for the empty string.
}

bool Decode(absl::string_view encoded, std::string* out) {
  out->clear();
  if (encoded == "%") return true;
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      out->push_back(encoded[i]);
      continue;
    }
    if (i + 2 >= encoded.size()) return false;
    int value = 0;
    for (size_t j = i + 1; j <= i + 2; ++j) {
      const char c = encoded[j];
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
      value = value * 16 + (absl::ascii_isdigit(static_cast<unsigned char>(c))
                                ? c - '0'
                                : absl::ascii_tolower(static_cast<unsigned char>(c)) - 'a' + 10);
    }
    out->push_back(static_cast<char>(value));
    i += 2;
  }
  return true;
}

absl::string_view TypeWord(StateEntry::Type type) {
  switch (type) {
    case StateEntry::Type::kDirectory:
      return "dir";
    case StateEntry::Type::kNetwork:
      return "net";
    case StateEntry::Type::kSymlink:
      return "link";
  }
  return "?";
}

absl::Status LineError(size_t line, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("state line ", line, ": ", why));
}

bool ParseTime(absl::string_view word, absl::Time* out) {
  int64_t nanos = 0;
  if (!absl::SimpleAtoi(word, &nanos)) return false;
  *out = absl::FromUnixNanos(nanos);
  return true;
}

absl::StatusOr<StateEntry> DecodeLine(absl::string_view line, size_t number) {
  std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (words.size() < 8) return LineError(number, "too few fields");
  StateEntry entry;
  if (words[0] == "dir") {
    entry.type = StateEntry::Type::kDirectory;
  } else if (words[0] == "net") {
    entry.type = StateEntry::Type::kNetwork;
  } else if (words[0] == "link") {
    entry.type = StateEntry::Type::kSymlink;
  } else {
    return LineError(number, absl::StrCat("unknown entry type '", words[0], "'"));
  }
  if (!Decode(words[1], &entry.path) || entry.path.empty() || entry.path[0] != '/') {
    return LineError(number, "bad path");
  }
  uint32_t mode = 0;
  if (!absl::numbers_internal::safe_strtou32_base(words[2], &mode, 8) || mode > 07777) {
    return LineError(number, "bad mode");
  }
  entry.mode = mode;
  if (!absl::SimpleAtoi(words[3], &entry.uid) || !absl::SimpleAtoi(words[4], &entry.gid)) {
    return LineError(number, "bad owner");
  }
  if (!ParseTime(words[5], &entry.atime) || !ParseTime(words[6], &entry.mtime) ||
      !ParseTime(words[7], &entry.ctime)) {
    return LineError(number, "bad time");
  }
  if (entry.type == StateEntry::Type::kSymlink) {
    if (words.size() != 9 || !Decode(words[8], &entry.target) || entry.target.empty()) {
      return LineError(number, "bad symlink target");
    }
    return entry;
  }
  for (size_t i = 8; i < words.size(); ++i) {
    std::pair<std::string, std::string> setting;
    const size_t equals = words[i].find('=');
    if (equals == absl::string_view::npos || !Decode(words[i].substr(0, equals), &setting.first) ||
        !Decode(words[i].substr(equals + 1), &setting.second)) {
      return LineError(number, "bad setting");
    }
    entry.settings.push_back(std::move(setting));
  }
  return entry;
}

}  // namespace

std::string EncodeState(const std::vector<StateEntry>& entries) {
  std::string text = absl::StrCat(kMagic, "\n");
  for (const StateEntry& entry : entries) {
    absl::StrAppend(&text, TypeWord(entry.type), " ", Encode(entry.path), " ",
                    absl::StrFormat("%o", entry.mode), " ", entry.uid, " ", entry.gid, " ",
                    absl::ToUnixNanos(entry.atime), " ", absl::ToUnixNanos(entry.mtime), " ",
                    absl::ToUnixNanos(entry.ctime));
    if (entry.type == StateEntry::Type::kSymlink) absl::StrAppend(&text, " ", Encode(entry.target));
    for (const auto& [name, value] : entry.settings) {
      absl::StrAppend(&text, " ", Encode(name), "=", Encode(value));
    }
    text += "\n";
  }
  return text;
}

absl::StatusOr<std::vector<StateEntry>> DecodeState(absl::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (lines.empty() || lines[0] != kMagic) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an ipnfs state file (no '", kMagic, "' header)"));
  }
  if (!lines.back().empty()) return LineError(lines.size(), "truncated (no final newline)");
  std::vector<StateEntry> entries;
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    absl::StatusOr<StateEntry> entry = DecodeLine(lines[i], i + 1);
    if (!entry.ok()) return entry.status();
    entries.push_back(*std::move(entry));
  }
  return entries;
}

}  // namespace ipnfs
