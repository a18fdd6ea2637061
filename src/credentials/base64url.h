// URL-safe base64 (RFC 4648 §5: '-' and '_' instead of '+' and '/'), the
// encoding of Fernet keys and tokens and of the store's salt.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace uc::credentials {

// Always padded with '=' to a multiple of 4 characters, like Python's
// base64.urlsafe_b64encode.
std::string base64url_encode(std::string_view bytes);

// Strict: only the URL-safe alphabet, length a multiple of 4, '=' only as the
// last one or two characters. Anything else is INVALID_ARGUMENT. The message
// never quotes the input (it may be secret).
Result<std::string> base64url_decode(std::string_view text);

}  // namespace uc::credentials
