// Address rules: PCRE2 regular expressions whose named groups fill parts of a tag's context.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace uc::normalize {

// The named groups a rule may use to fill the context. Groups with other names are kept too
// and become tag metadata (name → captured text).
inline constexpr std::string_view kRuleGroupNames[] = {
    "site", "area", "line", "equipment", "tag_name", "signal_type", "unit",
};

// One compiled pattern. Syntax is PCRE2 (Perl/Python-compatible, UTF-8 mode) and accepts
// Python's "(?P<name>...)" groups. Matching is a search (unanchored, like re.search): anchor
// with ^ and $ when needed. JIT-compiled where the platform supports it. Immutable after
// compile(), so one instance may be shared between threads.
class CompiledRegex {
 public:
  struct Capture {
    std::string name;
    std::string value;
  };

  // Errors (kInvalidArgument) carry PCRE2's message and the offset of the problem.
  static Result<std::shared_ptr<const CompiledRegex>> compile(std::string_view pattern);
  ~CompiledRegex();
  CompiledRegex(const CompiledRegex&) = delete;
  CompiledRegex& operator=(const CompiledRegex&) = delete;

  // Matches `subject`; on a match fills `out` with every named group that took part in it
  // (in the order the groups appear in the pattern) and returns true. No match, a subject
  // that is not valid UTF-8, or hitting the match limit (catastrophic backtracking) → false.
  bool match(std::string_view subject, std::vector<Capture>& out) const;

  const std::string& pattern() const { return pattern_; }
  bool jit() const { return jit_; }

 private:
  CompiledRegex() = default;
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8*
  void* match_context_ = nullptr;  // pcre2_match_context_8*
  std::vector<std::pair<int, std::string>> groups_;  // (group number, name)
  bool jit_ = false;
};

}  // namespace uc::normalize
