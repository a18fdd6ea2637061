// Fuzz target: the OAuth token endpoint's response body (untrusted JSON).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sinks/zerobus/token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto t = uc::sinks::zerobus::parse_token_response(body, 1'000'000);
  if (t.is_ok() && (t->access_token.empty() || t->lifetime_us < 1'000'000)) std::abort();
  return 0;
}
