// Fuzz target: Zerobus server responses. The input is split into length-prefixed
// chunks (1 byte length); each chunk is parsed as an EphemeralStreamResponse and fed
// to a StreamSession with requests sent in between. Nothing may crash, and the
// session's invariants must hold (acks never pass the last offset sent).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "sinks/zerobus/stream_session.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using uc::sinks::zerobus::StreamSession;
  StreamSession s(0, 1'000'000, 500'000);
  std::int64_t now = 0;
  std::size_t i = 0;
  while (i < size) {
    std::size_t n = data[i++];
    if (n > size - i) n = size - i;
    databricks::zerobus::EphemeralStreamResponse r;
    if (r.ParseFromArray(data + i, static_cast<int>(n))) {
      now += 1000;
      s.on_response(r, now);
      if (s.can_send() && (n & 1)) s.sent(now);
      if (s.acked() > s.last_sent()) std::abort();
    }
    i += n;
    s.on_time(now + static_cast<std::int64_t>(n) * 10'000);
  }
  s.on_end(uc::Status::ok());
  return 0;
}
