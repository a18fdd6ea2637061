// Fuzz target: the YAML config loader with every protocol's option parser registered.
// Any text must give a config or errors with positions, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "app/registry.h"
#include "config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const uc::config::Loader loader = [] {
    uc::config::Loader l;
    uc::app::register_protocols(l);
    l.set_env_lookup([](const std::string&) -> std::optional<std::string> { return "1"; });
    return l;
  }();
  if (size > 64 * 1024) return 0;
  const auto r = loader.load_string(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
  if (!r.ok() && r.errors.empty()) __builtin_trap();  // a failed load always says why
  return 0;
}
