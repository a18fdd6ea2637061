// Fuzz target: service message decoding (generated structures on the built-in codec).
// The first byte picks the message type, the rest is its body as it follows the encoding
// NodeId. Whatever decodes must re-encode, decode again and re-encode to the same bytes
// (the codec is canonical after one pass; bytes, not ==, so NaN compares); failures must be
// clean errors.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocols/opcua/generated/types.h"

namespace {

template <typename T>
void check(std::string_view in) {
  using namespace uc::opcua;
  Limits limits;
  limits.max_string_length = 64 * 1024;
  limits.max_array_length = 4096;
  limits.max_depth = 16;
  Decoder d(in, limits);
  T value{};
  if (!decode(d, value)) return;
  std::string again;
  Encoder e(again);
  encode(e, value);
  Decoder d2(again, limits);
  T second{};
  if (!decode(d2, second)) std::abort();
  std::string third;
  Encoder e3(third);
  encode(e3, second);
  if (third != again) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace uc::opcua;
  if (size < 1) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 12) {
    case 0: check<ReadResponse>(body); break;
    case 1: check<PublishResponse>(body); break;
    case 2: check<BrowseResponse>(body); break;
    case 3: check<CreateSessionResponse>(body); break;
    case 4: check<GetEndpointsResponse>(body); break;
    case 5: check<DataChangeNotification>(body); break;
    case 6: check<Variant>(body); break;
    case 7: check<DataValue>(body); break;
    case 8: check<DiagnosticInfo>(body); break;
    case 9: check<OpenSecureChannelResponse>(body); break;
    case 10: check<TranslateBrowsePathsToNodeIdsResponse>(body); break;
    default: check<ExpandedNodeId>(body); break;
  }
  return 0;
}
