// Globs over tag paths and browse paths: segments separated by '/', where '*' matches any
// run of characters within one segment, '?' one character, and a segment that is exactly
// "**" matches any number of segments (none included). Empty segments are ignored on both
// sides ("a//b" is "a/b").
//
// Pure functions, no allocation beyond the segment lists. The match is a dynamic program
// over (pattern segment, path segment): O(pattern segments × path segments) segment
// comparisons, so an untrusted pattern such as "**/**/**/…" cannot make it exponential.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/status.h"

namespace uc::normalize {

inline constexpr std::size_t kMaxGlobBytes = 1024;

bool glob_match(std::string_view pattern, std::string_view path);

// For patterns from untrusted input (the API): INVALID_ARGUMENT when the pattern is empty,
// longer than kMaxGlobBytes, has an empty segment (leading, trailing or doubled '/'), or
// has "**" inside a longer segment ("a**"), which would otherwise silently mean "a*".
Status validate_glob(std::string_view pattern);

}  // namespace uc::normalize
