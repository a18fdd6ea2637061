// Fuzz target: the Sparkplug B payload decoder, every metric converted with its own
// datatype and with each other datatype (wrong value fields must be errors, never UB).
#include <cstddef>
#include <cstdint>

#include "protocols/sparkplug/payload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace sp = uc::protocols::sparkplug;
  sp::Limits limits;
  limits.max_metrics = 4096;
  limits.max_array_items = 1u << 16;
  limits.max_dataset_cells = 1u << 16;
  auto r = sp::decode_payload(data, size, limits);
  if (!r.is_ok()) return 0;
  for (const auto& m : r->metrics) {
    if (m.datatype) (void)sp::metric_value(m, *m.datatype, limits);
    for (std::uint32_t dt = 0; dt <= 35; ++dt) (void)sp::metric_value(m, dt, limits);
  }
  return 0;
}
