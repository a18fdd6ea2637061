#include "sources/modbus/config.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <system_error>
#include <tuple>

#include "config/checks.h"
#include "config/loader.h"

namespace uc::sources::modbus {
namespace {

using config::quote;
using config::Reader;

constexpr std::int64_t kMaxUnitId = 247;
constexpr int kMaxStringLength = 250;  // 125 registers, the most one read returns

const std::vector<std::pair<std::string, ByteOrder>>& byte_orders() {
  static const std::vector<std::pair<std::string, ByteOrder>> kOrders = {
      {"ABCD", ByteOrder::kABCD}, {"CDAB", ByteOrder::kCDAB}, {"BADC", ByteOrder::kBADC}, {"DCBA", ByteOrder::kDCBA}};
  return kOrders;
}

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Returns the problem, or nullopt with out filled in.
std::optional<std::string> parse_rtu(std::string_view rest, Options& out) {
  const std::size_t q = rest.find('?');
  out.transport = Transport::kRtu;
  out.device = std::string(rest.substr(0, q));
  if (out.device.size() < 2 || out.device.front() != '/') return "expected a device path such as /dev/ttyUSB0";
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = rest.substr(q + 1);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const std::size_t eq = param.find('=');
    const std::string_view key = param.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
    if (key == "baud") {
      const auto baud = parse_int(value);
      if (!baud || *baud < 50 || *baud > 4000000) return "invalid baud rate " + quote(value);
      out.baud = *baud;
    } else if (key == "parity") {
      if (value == "N") {
        out.parity = Parity::kNone;
      } else if (value == "E") {
        out.parity = Parity::kEven;
      } else if (value == "O") {
        out.parity = Parity::kOdd;
      } else {
        return "invalid parity " + quote(value) + "; expected N, E or O";
      }
    } else if (key == "stop") {
      if (value != "1" && value != "2") return "invalid stop bits " + quote(value) + "; expected 1 or 2";
      out.stop_bits = value == "1" ? 1 : 2;
    } else if (key == "data") {
      if (value != "7" && value != "8") return "invalid data bits " + quote(value) + "; expected 7 or 8";
      out.data_bits = value == "7" ? 7 : 8;
    } else {
      return "unknown parameter " + quote(key) + "; expected baud, parity, stop or data";
    }
  }
  return std::nullopt;
}

void check_endpoint(const Reader& node, Options& out) {
  if (!node.has("endpoint")) {
    node.missing("endpoint");
    return;
  }
  const auto endpoint = node.peek_string("endpoint");
  if (!endpoint) return;  // reported by the loader
  std::string_view rest = *endpoint;
  if (rest.rfind("modbus://", 0) == 0) {
    rest.remove_prefix(9);
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    const auto hp = config::parse_host_port(rest, 502);
    if (!hp) {
      node.error_at("endpoint", "invalid host or port in " + quote(*endpoint));
      return;
    }
    out.transport = Transport::kTcp;
    out.host = hp->host;
    out.port = hp->port;
  } else if (rest.rfind("modbusrtu://", 0) == 0) {
    if (auto problem = parse_rtu(rest.substr(12), out)) {
      node.error_at("endpoint", "invalid endpoint " + quote(*endpoint) + ": " + *problem);
    }
  } else {
    node.error_at("endpoint", "expected modbus://HOST[:PORT] or modbusrtu:///DEVICE?baud=N&parity=N|E|O&stop=1|2, got " +
                                  quote(*endpoint));
  }
}

using protocols::modbus::is_bit_table;

// One register's claim on the address space, for the overlap check.
struct Claim {
  int unit;
  Table table;
  int first;  // as written
  int last;
  std::size_t index;  // into the registers that were read, in file order
};

}  // namespace

std::shared_ptr<const config::SourceOptions> parse_options(const Reader& node, config::Errors& errors) {
  node.check_keys(config::with_common_source_keys(
      {"unit_id", "unit_ids", "poll_interval_ms", "byte_order", "zero_based", "timeout_ms", "max_gap",
       "max_registers_per_request", "max_bits_per_request", "registers"}));
  auto out = std::make_shared<Options>();
  check_endpoint(node, *out);

  if (node.has("unit_id") && node.has("unit_ids")) {
    node.error_at("unit_ids", "use either unit_id or unit_ids, not both");
  } else if (node.has("unit_ids")) {
    out->unit_ids.clear();
    for (const std::int64_t id : node.get_int_list("unit_ids", 0, kMaxUnitId)) {
      if (std::find(out->unit_ids.begin(), out->unit_ids.end(), id) == out->unit_ids.end()) {
        out->unit_ids.push_back(static_cast<int>(id));
      }
    }
    const auto list = node.child("unit_ids");
    if (list->is_null() || (list->is_list() && list->node().size() == 0)) list->error("must not be empty");
  } else if (auto id = node.get_int("unit_id", 0, kMaxUnitId)) {
    out->unit_ids = {static_cast<int>(*id)};
  }
  out->poll_interval_ms = static_cast<int>(node.get_int_or("poll_interval_ms", 1000, 10, 86400000));
  out->byte_order = node.get_enum<ByteOrder>("byte_order", byte_orders(), ByteOrder::kABCD);
  out->zero_based = node.get_bool("zero_based", true);
  out->timeout_ms = static_cast<int>(node.get_int_or("timeout_ms", 1000, 1, 60000));
  out->max_gap = static_cast<int>(node.get_int_or("max_gap", 10, 0, 2000));
  out->max_registers_per_request = static_cast<int>(
      node.get_int_or("max_registers_per_request", protocols::modbus::kMaxReadRegisters, 1,
                      protocols::modbus::kMaxReadRegisters));
  out->max_bits_per_request = static_cast<int>(
      node.get_int_or("max_bits_per_request", protocols::modbus::kMaxReadBits, 1, protocols::modbus::kMaxReadBits));

  const int min_address = out->zero_based ? 0 : 1;
  const int max_address = out->zero_based ? 65535 : 65536;
  std::vector<Reader> register_nodes;  // parallel to out->registers
  std::map<std::string, int, std::less<>> first_line;
  for (const Reader& item : node.get_list("registers")) {
    if (!item.is_map()) {
      item.error("expected a map, got " + item.describe());
      continue;
    }
    item.check_keys({"name", "table", "address", "type", "length", "byte_order", "scale", "offset", "unit", "unit_id",
                    "poll_interval_ms"});
    Register r;
    r.location = item.location();
    bool ok = true;
    if (auto name = item.require_string("name")) {
      if (name->empty()) {
        item.error_at("name", "must not be empty");
        ok = false;
      } else if (auto it = first_line.find(*name); it != first_line.end()) {
        item.error_at("name", "duplicate register name " + quote(*name) + " (first defined at line " +
                                  std::to_string(it->second) + ")");
        ok = false;
      } else {
        first_line.emplace(*name, r.location.line);
      }
      r.name = *name;
    } else {
      ok = false;
    }
    static const std::vector<std::string> kTables = {"coil", "discrete", "holding", "input"};
    if (const auto table = item.child("table"); !table || table->is_null()) {
      item.missing("table");
      ok = false;
    } else if (auto name = table->as_enum(kTables)) {
      r.table = static_cast<Table>(std::find(kTables.begin(), kTables.end(), *name) - kTables.begin());
    } else {
      ok = false;
    }
    if (auto address = item.require_int("address", min_address, max_address)) {
      r.configured_address = static_cast<int>(*address);
      r.address = r.configured_address - min_address;
    } else {
      ok = false;
    }
    r.type = is_bit_table(r.table) ? DataType::kBool : DataType::kUint16;
    // Same order as DataType.
    static const std::vector<std::string> kTypes = {"bool",   "int16",  "uint16",  "int32",   "uint32",
                                                    "int64",  "uint64", "float32", "float64", "string"};
    if (const auto type = item.child("type"); type && !type->is_null()) {
      if (auto name = type->as_enum(kTypes)) {
        r.type = static_cast<DataType>(std::find(kTypes.begin(), kTypes.end(), *name) - kTypes.begin());
        if (ok && is_bit_table(r.table) && r.type != DataType::kBool) {
          type->error(std::string("type ") + to_string(r.type) + " is not allowed in table " + to_string(r.table) +
                      "; coils and discrete inputs hold single bits (type bool)");
          ok = false;
        }
      } else {
        ok = false;
      }
    }
    if (r.type == DataType::kString) {
      if (!item.has("length")) {
        item.error("missing required key \"length\" for type string");
        ok = false;
      } else if (auto length = item.get_int("length", 1, kMaxStringLength)) {
        r.length = static_cast<int>(*length);
      } else {
        ok = false;
      }
    } else if (item.has("length")) {
      item.error_at("length", "length is only allowed for type string");
      ok = false;
    }
    r.byte_order = item.get_enum<ByteOrder>("byte_order", byte_orders(), out->byte_order);
    r.scale = item.get_double("scale", 1.0);
    r.offset = item.get_double("offset", 0.0);
    r.unit = item.get_string("unit", "");
    if (auto id = item.get_int("unit_id", 0, kMaxUnitId)) r.unit_id = static_cast<int>(*id);
    r.poll_interval_ms = static_cast<int>(item.get_int_or("poll_interval_ms", out->poll_interval_ms, 10, 86400000));
    if (!ok) continue;
    const int width = register_width(r.type, r.length);
    const int per_request = is_bit_table(r.table) ? out->max_bits_per_request : out->max_registers_per_request;
    if (width > per_request) {
      item.error("register " + quote(r.name) + " spans " + std::to_string(width) +
                 " registers, more than max_registers_per_request (" + std::to_string(per_request) + ")");
      continue;
    }
    const int last = r.configured_address + register_width(r.type, r.length) - 1;
    if (last > max_address) {
      item.error("register " + quote(r.name) + " ends at address " + std::to_string(last) +
                 ", beyond the last address " + std::to_string(max_address));
      continue;
    }
    out->registers.push_back(std::move(r));
    register_nodes.push_back(item);
  }

  // Overlaps: per unit and table, sorted by first address; each register is
  // compared with the one reaching furthest before it. Reported at whichever of
  // the two comes later in the file.
  std::vector<Claim> claims;
  for (std::size_t i = 0; i < out->registers.size(); ++i) {
    const Register& r = out->registers[i];
    const int last = r.configured_address + register_width(r.type, r.length) - 1;
    if (r.unit_id) {
      claims.push_back({*r.unit_id, r.table, r.configured_address, last, i});
    } else {
      for (const int unit : out->unit_ids) claims.push_back({unit, r.table, r.configured_address, last, i});
    }
  }
  std::sort(claims.begin(), claims.end(), [](const Claim& a, const Claim& b) {
    return std::tie(a.unit, a.table, a.first, a.index) < std::tie(b.unit, b.table, b.first, b.index);
  });
  std::vector<bool> reported(out->registers.size(), false);
  const Claim* furthest = nullptr;
  for (const Claim& c : claims) {
    if (furthest != nullptr && (furthest->unit != c.unit || furthest->table != c.table)) furthest = nullptr;
    if (furthest != nullptr && c.first <= furthest->last && c.index != furthest->index) {
      const std::size_t later = std::max(c.index, furthest->index);
      const std::size_t earlier = std::min(c.index, furthest->index);
      const Claim& lc = later == c.index ? c : *furthest;
      const Claim& ec = later == c.index ? *furthest : c;
      if (!reported[later]) {
        reported[later] = true;
        const Register& a = out->registers[earlier];
        const Register& b = out->registers[later];
        register_nodes[later].error(
            "register " + quote(b.name) + " (" + to_string(b.table) + " " + std::to_string(lc.first) + ".." +
            std::to_string(lc.last) + ") overlaps register " + quote(a.name) + " (" + to_string(a.table) + " " +
            std::to_string(ec.first) + ".." + std::to_string(ec.last) + ") on unit " + std::to_string(c.unit));
      }
    }
    if (furthest == nullptr || c.last > furthest->last) furthest = &c;
  }
  (void)errors;
  return out;
}

}  // namespace uc::sources::modbus
