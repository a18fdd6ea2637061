// `read --all-orders`: every numeric tag of a Modbus source read once and decoded in
// ABCD, CDAB, BADC and DCBA side by side (scale and offset applied), so a user can
// pick the plausible order instead of guessing (SPEC §4).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "core/value.h"
#include "sources/modbus/config.h"
#include "sources/modbus/wire.h"

namespace uc::sources::modbus {

struct AllOrdersRow {
  std::string tag;
  std::string address;  // "unit/table/address"
  DataType type = DataType::kUint16;
  ByteOrder configured = ByteOrder::kABCD;
  std::array<Value, 4> values;  // in kAllOrders order; null when error is set
  std::string error;            // the read failed (exception, timeout, ...)
};

// Connects, reads (coalesced) and closes. Bool and string tags are left out.
Result<std::vector<AllOrdersRow>> read_all_orders(const Options& options, Wire& transport);

// A fixed-width text table; the configured order of each tag is marked with '*'.
std::string format_all_orders(const std::vector<AllOrdersRow>& rows);

}  // namespace uc::sources::modbus
