// Fuzz target: the MQTT client packet decoder (3.1.1 and 5), fed in two chunks.
#include <cstddef>
#include <cstdint>

#include "protocols/mqtt/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace mq = uc::protocols::mqtt;
  for (mq::Version v : {mq::Version::k311, mq::Version::k5}) {
    mq::Decoder d(v, 1u << 16);
    const size_t half = size / 2;
    d.feed(data, half);
    for (int i = 0; i < 1000; ++i) {
      auto r = d.next();
      if (!r.is_ok() || !r->has_value()) break;
    }
    d.feed(data + half, size - half);
    for (int i = 0; i < 1000; ++i) {
      auto r = d.next();
      if (!r.is_ok() || !r->has_value()) break;
    }
  }
  return 0;
}
