// Fuzz target: the API's HTTP/1.1 request parser and connection machine, fed the input in
// three chunks with time moving, answering every request it frames. Small limits so
// that the 413/414/431 paths are reached by short inputs.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/http_connection.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace uc::api;
  HttpLimits limits;
  limits.max_target_bytes = 64;
  limits.max_header_bytes = 256;
  limits.max_headers = 8;
  limits.max_body_bytes = 32;
  limits.max_drain_bytes = 128;
  HttpConnection c(limits, HttpTimeouts{}, 0);
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::int64_t now = 0;
  for (std::size_t part = 0; part < 3 && !c.closed(); ++part) {
    const std::size_t from = size * part / 3;
    const std::size_t to = size * (part + 1) / 3;
    now += 1'000'000;
    if (c.wants_read()) c.on_bytes(bytes.substr(from, to - from), now);
    for (int i = 0; i < 100 && !c.closed(); ++i) {
      if (auto request = c.take_request()) c.on_response(Response::json({{"path", request->path}}), now);
      if (c.output().empty()) break;
      c.on_sent(c.output().size(), now);
    }
  }
  c.on_peer_eof(now);
  c.on_tick(now + 60'000'000);
  return 0;
}
