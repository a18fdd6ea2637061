// Fuzz target: opc.tcp framing and chunk assembly (protocols/opcua/transport.h).
// The input is a byte stream as a server would send it: frames are cut by FrameSplitter and
// every OPN/MSG/CLO frame goes through SecureChannel::receive with small limits; UACP
// frames go to their decoders. Nothing may crash, hang or allocate beyond the limits.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "protocols/opcua/transport.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace uc::opcua;
  TransportLimits local{8192, 8192, 64 * 1024, 16};
  SecureChannel channel(std::make_unique<NoneSecurity>(), local);
  FrameSplitter splitter(local.receive_buffer_size);
  splitter.feed(std::string_view(reinterpret_cast<const char*>(data), size));
  for (int frames = 0; frames < 1000; ++frames) {
    auto frame = splitter.next();
    if (!frame.is_ok() || !frame->has_value()) break;
    std::string f = std::move(**frame);
    auto type = frame_type(f);
    if (type == "HEL") {
      (void)decode_hello(f);
    } else if (type == "ACK") {
      (void)decode_acknowledge(f);
    } else if (type == "ERR") {
      (void)decode_error(f);
    } else if (type == "OPN" || type == "MSG" || type == "CLO") {
      auto msg = channel.receive(std::move(f));
      if (!msg.is_ok()) break;  // the connection would close here
      if (msg->has_value()) (void)peek_service_type((*msg)->body);
    }
  }
  return 0;
}
