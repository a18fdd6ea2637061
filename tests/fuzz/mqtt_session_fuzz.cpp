// Fuzz target: the MQTT client session machine (3.1.1 and 5) fed broker bytes in chunks,
// with the durability of every QoS 1/2 message reported back and time moving between
// chunks (keep-alive, silence watchdog). Any input must end in events and packets, never
// a crash, a hang or unbounded state.
#include <cstddef>
#include <cstdint>
#include <variant>

#include "protocols/mqtt/session.h"

namespace {

namespace mq = uc::protocols::mqtt;

void handle(mq::ClientSession& s, mq::Output&& out, std::int64_t now) {
  for (auto& e : out.events) {
    if (auto* m = std::get_if<mq::Message>(&e); m != nullptr && m->ack) (void)s.on_durable(*m->ack, now);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (mq::Version v : {mq::Version::k311, mq::Version::k5}) {
    mq::SessionOptions o;
    o.connect.version = v;
    o.connect.client_id = "fuzz";
    o.connect.keep_alive_s = 5;
    o.subscriptions = {{"a/#", 1}, {"b", 2}};
    o.max_packet_bytes = 1u << 16;
    mq::ClientSession s(o);
    std::int64_t now = 1'000'000;
    handle(s, s.start(now), now);
    // Chunks of 1..16 bytes, each length taken from the low bits of the chunk's first byte.
    size_t at = 0;
    while (at < size) {
      const size_t n = std::min<size_t>(size - at, 1 + (data[at] & 0x0F));
      handle(s, s.on_bytes(data + at, n, now), now);
      now += 700'000;
      handle(s, s.on_tick(now), now);
      at += n;
      if (s.phase() == mq::ClientSession::Phase::kClosed) handle(s, s.start(now), now);
    }
    handle(s, s.close(now), now);
  }
  return 0;
}
