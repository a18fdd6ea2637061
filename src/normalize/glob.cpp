#include "normalize/glob.h"

#include <string>
#include <vector>

namespace uc::normalize {
namespace {

// '*' and '?' within one segment: iterative, backtracking only to the last '*', so linear
// in practice and quadratic at worst.
bool segment_match(std::string_view p, std::string_view s) {
  std::size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == s[si] || p[pi] == '?')) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::vector<std::string_view> segments(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const auto slash = s.find('/');
    const std::string_view seg = s.substr(0, slash);
    if (!seg.empty()) out.push_back(seg);
    if (slash == std::string_view::npos) break;
    s.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  const auto p = segments(pattern);
  const auto s = segments(path);
  // reach[k]: the pattern segments so far match the first k path segments.
  // Strings rather than vector<char>: GCC 12 sees a null dereference in the latter.
  std::string reach(s.size() + 1, '\0'), next(s.size() + 1, '\0');
  reach[0] = 1;
  for (std::string_view seg : p) {
    if (seg == "**") {
      char any = 0;
      for (std::size_t k = 0; k <= s.size(); ++k) next[k] = any = static_cast<char>(any | reach[k]);
    } else {
      next[0] = 0;
      for (std::size_t k = 0; k < s.size(); ++k) next[k + 1] = reach[k] && segment_match(seg, s[k]);
    }
    reach.swap(next);
  }
  return reach[s.size()] != 0;
}

Status validate_glob(std::string_view pattern) {
  if (pattern.empty()) return invalid_argument("the glob is empty");
  if (pattern.size() > kMaxGlobBytes) {
    return invalid_argument("the glob is longer than " + std::to_string(kMaxGlobBytes) + " bytes");
  }
  std::size_t start = 0;
  while (true) {
    const auto slash = pattern.find('/', start);
    const std::string_view seg = pattern.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (seg.empty()) return invalid_argument("the glob has an empty segment at byte " + std::to_string(start));
    if (seg != "**" && seg.find("**") != std::string_view::npos) {
      return invalid_argument("\"**\" must be a whole segment (at byte " + std::to_string(start) + ")");
    }
    if (slash == std::string_view::npos) return Status::ok();
    start = slash + 1;
  }
}

}  // namespace uc::normalize
