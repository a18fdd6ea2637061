// Fuzz target: the JSON/text payload mapper of the MQTT source. The first byte picks the
// mapping (plain, with JSON pointers, text); the rest is the payload.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sources/mqtt/payload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace mq = uc::sources::mqtt;
  if (size == 0) return 0;
  const std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  mq::JsonMapping m;
  switch (data[0] % 3) {
    case 0:
      (void)mq::map_json("fuzz/topic", payload, m, 0);
      break;
    case 1:
      m.tags = {{"a", "/a"}, {"b", "/b/0/c"}, {"root", ""}, {"esc", "/x~1y/~0"}};
      (void)mq::map_json("fuzz/topic", payload, m, 0);
      break;
    default:
      (void)mq::map_text(payload, payload, 0);
  }
  return 0;
}
