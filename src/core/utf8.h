// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF),
// the one definition every decoder of untrusted text uses.
#pragma once

#include <cstddef>
#include <string_view>

namespace uc {

// Length of the valid UTF-8 sequence starting at s[i] (1..4), or 0 if it is invalid or
// truncated. i must be < s.size().
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

bool is_valid_utf8(std::string_view s);

}  // namespace uc
