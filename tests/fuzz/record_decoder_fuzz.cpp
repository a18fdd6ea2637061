// Fuzz target: the protobuf Record decoder (spool and DLQ files are read back with it).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/record_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static uc::RecordDecoder decoder(1000);
  uc::Record out;
  const uc::Status s = decoder.decode(std::string_view(reinterpret_cast<const char*>(data), size), out);
  if (!s.is_ok() && s.message().empty()) __builtin_trap();  // every rejection says why
  return 0;
}
