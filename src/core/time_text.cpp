#include "core/time_text.h"

#include <cstdio>
#include <ctime>

namespace uc {

std::string utc_text(TimestampUs us) {
  if (us <= 0) return {};
  const auto seconds = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[40];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>((us / 1000) % 1000));
  return text;
}

}  // namespace uc
