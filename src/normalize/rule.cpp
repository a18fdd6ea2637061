#define PCRE2_CODE_UNIT_WIDTH 8
#include "normalize/rule.h"

#include <pcre2.h>

#include <algorithm>

namespace uc::normalize {
namespace {

// Bounds the work of one match; only reached by patterns that backtrack catastrophically.
constexpr std::uint32_t kMatchLimit = 1'000'000;
constexpr std::uint32_t kDepthLimit = 10'000;

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  const int n = pcre2_get_error_message(code, buf, sizeof buf);
  if (n < 0) return "PCRE2 error " + std::to_string(code);
  return std::string(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

pcre2_code* as_code(void* p) { return static_cast<pcre2_code*>(p); }

// PCRE2 before 10.43 rejects a null pointer even with length 0.
PCRE2_SPTR text_ptr(std::string_view s) {
  static const char kEmpty[] = "";
  return reinterpret_cast<PCRE2_SPTR>(s.data() != nullptr ? s.data() : kEmpty);
}

}  // namespace

Result<std::shared_ptr<const CompiledRegex>> CompiledRegex::compile(std::string_view pattern) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(text_ptr(pattern), pattern.size(), PCRE2_UTF,
                                   &error, &offset, nullptr);
  if (code == nullptr) {
    return invalid_argument("invalid regular expression \"" + std::string(pattern) + "\": " +
                            pcre2_message(error) + " at offset " + std::to_string(offset));
  }
  std::shared_ptr<CompiledRegex> re(new CompiledRegex());
  re->pattern_ = std::string(pattern);
  re->code_ = code;
  re->jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  pcre2_match_context* mctx = pcre2_match_context_create(nullptr);
  if (mctx != nullptr) {
    pcre2_set_match_limit(mctx, kMatchLimit);
    pcre2_set_depth_limit(mctx, kDepthLimit);
  }
  re->match_context_ = mctx;

  std::uint32_t count = 0;
  std::uint32_t entry_size = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &count);
  pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
  pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
  for (std::uint32_t i = 0; i < count; ++i) {
    const PCRE2_SPTR entry = table + static_cast<std::size_t>(i) * entry_size;
    const int number = (entry[0] << 8) | entry[1];
    re->groups_.emplace_back(number, std::string(reinterpret_cast<const char*>(entry + 2)));
  }
  // The name table is sorted by name; report groups in pattern order.
  std::sort(re->groups_.begin(), re->groups_.end());
  return std::shared_ptr<const CompiledRegex>(std::move(re));
}

CompiledRegex::~CompiledRegex() {
  pcre2_match_context_free(static_cast<pcre2_match_context*>(match_context_));
  pcre2_code_free(as_code(code_));
}

bool CompiledRegex::match(std::string_view subject, std::vector<Capture>& out) const {
  out.clear();
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(as_code(code_), nullptr);
  if (md == nullptr) return false;
  const int rc = pcre2_match(as_code(code_), text_ptr(subject), subject.size(), 0, 0, md,
                             static_cast<pcre2_match_context*>(match_context_));
  if (rc <= 0) {
    pcre2_match_data_free(md);
    return false;
  }
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
  for (const auto& [number, name] : groups_) {
    if (number >= rc) continue;  // did not take part
    const PCRE2_SIZE start = ov[2 * number];
    const PCRE2_SIZE end = ov[2 * number + 1];
    if (start == PCRE2_UNSET || end < start) continue;
    out.push_back({name, std::string(subject.substr(start, end - start))});
  }
  pcre2_match_data_free(md);
  return true;
}

}  // namespace uc::normalize
