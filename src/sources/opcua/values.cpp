#include "sources/opcua/values.h"

#include <cstdio>
#include <ctime>
#include <type_traits>
#include <variant>

#include "protocols/opcua/encoding.h"
#include "protocols/opcua/generated/status_codes.h"

namespace uc::sources::opcua {
namespace {

namespace ua = uc::opcua;

std::string iso_time(ua::DateTime t) {
  std::int64_t us = ua::datetime_to_unix_us(t);
  std::int64_t secs = us >= 0 ? us / 1'000'000 : (us - 999'999) / 1'000'000;
  std::int64_t frac = us - secs * 1'000'000;
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (frac != 0) {
    char f[32];
    std::snprintf(f, sizeof f, ".%06lld", static_cast<long long>(frac));
    std::string fs = f;
    while (fs.back() == '0') fs.pop_back();
    out += fs;
  }
  return out + "Z";
}

std::string guid_text(const ua::Guid& g) {
  ua::NodeId n;
  n.id = g;
  return ua::to_string(n).substr(2);  // "g=..." without the prefix
}

Scalar to_scalar(const ua::Variant::Scalar& s) {
  return std::visit(
      [](const auto& x) -> Scalar {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          return x;
        } else if constexpr (std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::int16_t> ||
                             std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::int64_t>) {
          return static_cast<std::int64_t>(x);
        } else if constexpr (std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::uint16_t> ||
                             std::is_same_v<T, std::uint32_t> || std::is_same_v<T, std::uint64_t>) {
          return static_cast<std::uint64_t>(x);
        } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
          return static_cast<double>(x);
        } else if constexpr (std::is_same_v<T, ua::String>) {
          return x.value_or(std::string());
        } else if constexpr (std::is_same_v<T, ua::DateTime>) {
          return iso_time(x);
        } else if constexpr (std::is_same_v<T, ua::Guid>) {
          return guid_text(x);
        } else if constexpr (std::is_same_v<T, ua::ByteString>) {
          const std::string b = x.data.value_or(std::string());
          return Bytes{std::vector<std::uint8_t>(b.begin(), b.end())};
        } else if constexpr (std::is_same_v<T, ua::XmlElement>) {
          return x.data.value_or(std::string());
        } else if constexpr (std::is_same_v<T, ua::NodeId>) {
          return ua::to_string(x);
        } else if constexpr (std::is_same_v<T, ua::ExpandedNodeId>) {
          return ua::to_string(x.node_id);
        } else if constexpr (std::is_same_v<T, ua::StatusCode>) {
          return static_cast<std::uint64_t>(x.code);
        } else if constexpr (std::is_same_v<T, ua::QualifiedName>) {
          return x.name.value_or(std::string());
        } else if constexpr (std::is_same_v<T, ua::LocalizedText>) {
          return x.text.value_or(std::string());
        } else {
          return std::monostate{};
        }
      },
      s);
}

}  // namespace

Value to_value(const ua::Variant& v) {
  if (v.is_null() || v.values.empty()) return v.is_array ? Value(Array{}) : Value();
  if (!v.is_array) {
    Scalar s = to_scalar(v.values.front());
    return std::visit([](auto&& x) -> Value { return Value(std::move(x)); }, std::move(s));
  }
  Array a;
  a.items.reserve(v.values.size());
  for (const auto& s : v.values) a.items.push_back(to_scalar(s));
  return a;
}

Sample to_sample(const std::string& address, std::shared_ptr<TagMeta>& meta, ua::DataValue& dv, TimestampUs now) {
  Sample s;
  s.address = address;
  s.receive_time = now;
  if (dv.value) {
    if (meta && meta->data_type.empty() && !dv.value->is_null()) {
      // Published samples share the old meta: replace it rather than write to it.
      auto typed = std::make_shared<TagMeta>(*meta);
      typed->data_type = ua::builtin_type_name(dv.value->type);
      meta = std::move(typed);
    }
    if (dv.value->is_array && !dv.value->dims.empty()) {
      std::string dims;
      for (auto d : dv.value->dims) dims += (dims.empty() ? "" : ",") + std::to_string(d);
      s.metadata.emplace_back("opcua_array_dimensions", dims);
    }
    s.value = to_value(*dv.value);
  }
  s.meta = meta;
  const std::uint32_t code = dv.status ? dv.status->code : 0;
  s.status = {ProtocolStatus::Kind::kOpcUa, code, code == 0 ? std::string() : ua::status::name(code)};
  if (dv.source_timestamp && dv.source_timestamp->ticks != 0) s.source_time = ua::datetime_to_unix_us(*dv.source_timestamp);
  if (dv.server_timestamp && dv.server_timestamp->ticks != 0) {
    s.metadata.emplace_back("opcua_server_time_us", std::to_string(ua::datetime_to_unix_us(*dv.server_timestamp)));
  }
  return s;
}

}  // namespace uc::sources::opcua
