#include "normalize/sanitize.h"

#include <array>

namespace uc::normalize {
namespace {

// ASCII folding of U+00C0..U+00FF (UTF-8 lead byte 0xC3, continuation 0x80..0xBF).
// Entries are lowercase; "" means the character has no letter form and becomes '_'.
constexpr std::array<const char*, 64> kLatin1Fold = {
    "a", "a", "a", "a", "a", "a", "ae", "c",  // À Á Â Ã Ä Å Æ Ç
    "e", "e", "e", "e", "i", "i", "i",  "i",  // È É Ê Ë Ì Í Î Ï
    "d", "n", "o", "o", "o", "o", "o",  "",   // Ð Ñ Ò Ó Ô Õ Ö ×
    "o", "u", "u", "u", "u", "y", "th", "ss", // Ø Ù Ú Û Ü Ý Þ ß
    "a", "a", "a", "a", "a", "a", "ae", "c",  // à á â ã ä å æ ç
    "e", "e", "e", "e", "i", "i", "i",  "i",  // è é ê ë ì í î ï
    "d", "n", "o", "o", "o", "o", "o",  "",   // ð ñ ò ó ô õ ö ÷
    "o", "u", "u", "u", "u", "y", "th", "y",  // ø ù ú û ü ý þ ÿ
};

constexpr std::size_t kHashedPrefixBytes = kMaxSegmentBytes - 9;  // '_' + 8 hex digits

void append_char(std::string& out, char c) {
  if (c == '_' && (out.empty() || out.back() == '_')) return;  // collapse runs, drop leading
  out.push_back(c);
}

}  // namespace

std::uint64_t fnv1a64(std::string_view data) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint32_t stable_hash32(std::string_view data) {
  const std::uint64_t h = fnv1a64(data);
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

std::string hash_suffix(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint32_t h = stable_hash32(data);
  std::string out(8, '0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kHex[h & 0xF];
    h >>= 4;
  }
  return out;
}

std::string sanitize_segment(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() < kMaxSegmentBytes ? raw.size() : kMaxSegmentBytes);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto b = static_cast<unsigned char>(raw[i]);
    if (b >= 'A' && b <= 'Z') {
      out.push_back(static_cast<char>(b - 'A' + 'a'));
    } else if ((b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-') {
      out.push_back(static_cast<char>(b));
    } else if (b == 0xC3 && i + 1 < raw.size() &&
               (static_cast<unsigned char>(raw[i + 1]) & 0xC0) == 0x80) {
      const char* folded = kLatin1Fold[static_cast<unsigned char>(raw[i + 1]) - 0x80];
      ++i;
      if (*folded == '\0') {
        append_char(out, '_');
      } else {
        out += folded;
      }
    } else {
      // '_', punctuation, control bytes and any other UTF-8 sequence: one '_' per run.
      // Continuation bytes of a multibyte character each land here and collapse.
      append_char(out, '_');
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (out.empty()) return "unknown";
  if (out.size() > kMaxSegmentBytes) {
    const std::string suffix = hash_suffix(out);
    out.resize(kHashedPrefixBytes);
    while (!out.empty() && out.back() == '_') out.pop_back();
    out.push_back('_');
    out += suffix;
  }
  return out;
}

}  // namespace uc::normalize
