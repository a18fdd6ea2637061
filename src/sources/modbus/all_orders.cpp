#include "sources/modbus/all_orders.h"

#include <algorithm>

#include "protocols/modbus/codec.h"
#include "sources/modbus/device_plan.h"

namespace uc::sources::modbus {

Result<std::vector<AllOrdersRow>> read_all_orders(const Options& options, Wire& transport) {
  Options numeric = options;
  numeric.registers.clear();
  for (const Register& r : options.registers) {
    if (r.type != DataType::kBool && r.type != DataType::kString && !protocols::modbus::is_bit_table(r.table)) {
      numeric.registers.push_back(r);
    }
  }
  const DevicePlan plan = make_device_plan(numeric);
  std::vector<AllOrdersRow> rows(plan.tags.size());
  if (Status s = transport.connect(); !s.is_ok()) return s;
  std::vector<std::uint16_t> regs(protocols::modbus::kMaxReadRegisters + 8);
  std::vector<std::uint8_t> bits(protocols::modbus::kMaxReadBits + 8);
  for (const PollGroup& g : plan.groups) {
    for (const PlannedRead& read : g.reads) {
      const ReadOutcome o = transport.read(read.unit, read.table, read.start, read.count, regs.data(), bits.data());
      for (const std::size_t i : read.tags) {
        const Tag& t = plan.tags[i];
        AllOrdersRow& row = rows[i];
        row.tag = t.meta->tag_name;
        row.address = t.address;
        row.type = t.reg->type;
        row.configured = t.reg->byte_order;
        if (!o.ok()) {
          row.error = o.kind == ReadOutcome::Kind::kException
                          ? "exception " + std::to_string(o.code) + " (" + protocols::modbus::exception_name(o.code) + ")"
                          : o.text;
          continue;
        }
        const auto off = static_cast<std::size_t>(t.reg->address - read.start);
        const std::span<const std::uint16_t> span(regs.data() + off,
                                                   static_cast<std::size_t>(register_width(t.reg->type, 0)));
        for (std::size_t k = 0; k < 4; ++k) {
          auto v = protocols::modbus::decode_registers(t.reg->type, protocols::modbus::kAllOrders[k], span);
          if (v.is_ok()) row.values[k] = protocols::modbus::apply_scale(std::move(v).value(), t.reg->scale, t.reg->offset);
        }
      }
      if (o.kind == ReadOutcome::Kind::kConnection || o.kind == ReadOutcome::Kind::kProtocol) {
        if (Status s = transport.connect(); !s.is_ok()) return s;
      } else if (o.kind == ReadOutcome::Kind::kTimeout) {
        transport.flush();
      }
    }
  }
  transport.close();
  return rows;
}

std::string format_all_orders(const std::vector<AllOrdersRow>& rows) {
  std::vector<std::array<std::string, 7>> cells;
  cells.push_back({"tag", "address", "type", "ABCD", "CDAB", "BADC", "DCBA"});
  for (const AllOrdersRow& r : rows) {
    std::array<std::string, 7> c{r.tag, r.address, to_string(r.type), "", "", "", ""};
    for (std::size_t k = 0; k < 4; ++k) {
      if (!r.error.empty()) {
        c[3 + k] = k == 0 ? "error: " + r.error : "";
        continue;
      }
      c[3 + k] = value_to_text(r.values[k]);
      if (protocols::modbus::kAllOrders[k] == r.configured) c[3 + k] += " *";
    }
    cells.push_back(std::move(c));
  }
  std::array<std::size_t, 7> width{};
  for (const auto& c : cells) {
    for (std::size_t k = 0; k < c.size(); ++k) width[k] = std::max(width[k], c[k].size());
  }
  std::string out;
  for (const auto& c : cells) {
    std::string line;
    for (std::size_t k = 0; k < c.size(); ++k) {
      line += c[k];
      if (k + 1 < c.size()) line.append(width[k] - c[k].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + '\n';
  }
  out += "(* = the configured byte_order; scale and offset applied)\n";
  return out;
}

}  // namespace uc::sources::modbus
