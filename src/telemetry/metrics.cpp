#include "telemetry/metrics.h"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <system_error>

namespace uc::telemetry {

namespace {

bool is_name_start(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
}

bool is_name_char(char c, bool allow_colon) {
  return is_name_start(c, allow_colon) || (c >= '0' && c <= '9');
}

bool is_valid_name(std::string_view name, bool allow_colon) {
  if (name.empty() || !is_name_start(name.front(), allow_colon)) return false;
  for (char c : name) {
    if (!is_name_char(c, allow_colon)) return false;
  }
  return true;
}

LabelValues to_values(std::initializer_list<std::string_view> values) {
  LabelValues out;
  out.reserve(values.size());
  for (auto v : values) out.emplace_back(v);
  return out;
}

std::string counter_name(std::string name) {
  constexpr std::string_view kSuffix = "_total";
  if (name.size() >= kSuffix.size() && name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
    return name;
  }
  return name + std::string(kSuffix);
}

std::string format_sample(const FamilyBase::Sample& s) {
  if (s.is_integer) return std::to_string(s.integer);
  return format_sample_value(s.value);
}

}  // namespace

const char* metric_type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
  }
  return "untyped";
}

bool is_valid_metric_name(std::string_view name) {
  return is_valid_name(name, true);
}

bool is_valid_label_name(std::string_view name) {
  return is_valid_name(name, false) && name.substr(0, 2) != "__";
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Go's ParseFloat spellings for the specials; whole numbers below 2^53 (every counter a
// process reaches) in plain digits, as counters are read (100000, not 1e+05); otherwise
// the shortest string that reads back to the same double.
std::string format_sample_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
  if (std::fabs(value) < kExactIntegers && value == std::trunc(value)) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), static_cast<std::int64_t>(value));
    return std::string(buf, end);
  }
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

// ---- families ----

void FamilyBase::check_arity(const LabelValues& values) const {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + " takes " + std::to_string(label_names_.size()) +
                                " label values, got " + std::to_string(values.size()));
  }
}

CounterFamily::CounterFamily(std::string name, std::string help, std::vector<std::string> label_names)
    : FamilyBase(std::move(name), std::move(help), std::move(label_names), MetricType::kCounter) {
  // A family without labels has exactly one series, exported from the start.
  if (this->label_names().empty()) cells_.emplace(LabelValues{}, std::make_unique<Counter>());
}

Counter& CounterFamily::with(const LabelValues& values) {
  check_arity(values);
  std::lock_guard lock(mutex_);
  auto& cell = cells_[values];
  if (!cell) cell = std::make_unique<Counter>();
  return *cell;
}

Counter& CounterFamily::with(std::initializer_list<std::string_view> values) {
  return with(to_values(values));
}

void CounterFamily::set_callback(const LabelValues& values, std::function<std::uint64_t()> callback) {
  check_arity(values);
  std::lock_guard lock(mutex_);
  callbacks_[values] = std::move(callback);
}

std::vector<FamilyBase::Sample> CounterFamily::collect() const {
  std::lock_guard lock(mutex_);
  std::map<LabelValues, std::uint64_t> merged;
  for (const auto& [labels, cell] : cells_) merged[labels] += cell->value();
  for (const auto& [labels, callback] : callbacks_) merged[labels] += callback();
  std::vector<Sample> out;
  out.reserve(merged.size());
  for (const auto& [labels, value] : merged) {
    Sample s;
    s.labels = labels;
    s.is_integer = true;
    s.integer = value;
    s.value = static_cast<double>(value);
    out.push_back(std::move(s));
  }
  return out;
}

GaugeFamily::GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names)
    : FamilyBase(std::move(name), std::move(help), std::move(label_names), MetricType::kGauge) {
  if (this->label_names().empty()) {
    auto cell = std::make_unique<Cell>();
    cell->direct = true;
    cells_.emplace(LabelValues{}, std::move(cell));
  }
}

Gauge& GaugeFamily::with(const LabelValues& values) {
  check_arity(values);
  std::lock_guard lock(mutex_);
  auto& cell = cells_[values];
  if (!cell) cell = std::make_unique<Cell>();
  cell->direct = true;
  return cell->gauge;
}

Gauge& GaugeFamily::with(std::initializer_list<std::string_view> values) {
  return with(to_values(values));
}

void GaugeFamily::set_callback(const LabelValues& values, std::function<double()> callback) {
  check_arity(values);
  std::lock_guard lock(mutex_);
  auto& cell = cells_[values];
  if (!cell) cell = std::make_unique<Cell>();
  cell->callback = std::move(callback);
}

void GaugeFamily::remove_callback(const LabelValues& values) {
  check_arity(values);
  std::lock_guard lock(mutex_);
  auto it = cells_.find(values);
  if (it == cells_.end()) return;
  it->second->callback = nullptr;
  // A directly set gauge may still be referenced by a caller: keep it.
  if (!it->second->direct) cells_.erase(it);
}

std::vector<FamilyBase::Sample> GaugeFamily::collect() const {
  std::lock_guard lock(mutex_);
  std::vector<Sample> out;
  out.reserve(cells_.size());
  for (const auto& [labels, cell] : cells_) {
    Sample s;
    s.labels = labels;
    s.value = cell->callback ? cell->callback() : cell->gauge.value();
    out.push_back(std::move(s));
  }
  return out;
}

// ---- registry ----

template <typename F>
Result<F*> MetricsRegistry::add_family(std::string name, std::string help, std::vector<std::string> label_names,
                                       MetricType type) {
  if (!is_valid_metric_name(name)) {
    return invalid_argument("invalid metric name '" + name + "': expected [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    if (!is_valid_label_name(label_names[i])) {
      return invalid_argument("metric " + name + ": invalid label name '" + label_names[i] +
                              "': expected [a-zA-Z_][a-zA-Z0-9_]* not starting with __");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (label_names[j] == label_names[i]) {
        return invalid_argument("metric " + name + ": duplicate label name '" + label_names[i] + "'");
      }
    }
  }
  if (type == MetricType::kCounter) name = counter_name(std::move(name));

  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* existing = dynamic_cast<F*>(it->second.get());
    if (existing != nullptr && existing->help() == help && existing->label_names() == label_names) {
      return existing;
    }
    return Status(StatusCode::kAlreadyExists,
                  "metric " + name + " is already registered with a different type, help or labels");
  }
  auto family = std::make_unique<F>(name, std::move(help), std::move(label_names));
  F* raw = family.get();
  families_.emplace(std::move(name), std::move(family));
  return raw;
}

Result<CounterFamily*> MetricsRegistry::add_counter(std::string name, std::string help,
                                                    std::vector<std::string> label_names) {
  return add_family<CounterFamily>(std::move(name), std::move(help), std::move(label_names), MetricType::kCounter);
}

Result<GaugeFamily*> MetricsRegistry::add_gauge(std::string name, std::string help,
                                                std::vector<std::string> label_names) {
  return add_family<GaugeFamily>(std::move(name), std::move(help), std::move(label_names), MetricType::kGauge);
}

CounterFamily& MetricsRegistry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
  auto r = add_counter(std::move(name), std::move(help), std::move(label_names));
  if (!r) throw std::invalid_argument(r.status().to_string());
  return **r;
}

GaugeFamily& MetricsRegistry::gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  auto r = add_gauge(std::move(name), std::move(help), std::move(label_names));
  if (!r) throw std::invalid_argument(r.status().to_string());
  return **r;
}

std::string MetricsRegistry::render_prometheus() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += escape_help(family->help());
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += metric_type_name(family->type());
    out += '\n';
    const auto& label_names = family->label_names();
    for (const auto& sample : family->collect()) {
      out += name;
      if (!label_names.empty()) {
        out += '{';
        for (std::size_t i = 0; i < label_names.size(); ++i) {
          if (i > 0) out += ',';
          out += label_names[i];
          out += "=\"";
          out += escape_label_value(sample.labels[i]);
          out += '"';
        }
        out += '}';
      }
      out += ' ';
      out += format_sample(sample);
      out += '\n';
    }
  }
  return out;
}

nlohmann::json MetricsRegistry::to_json() const {
  std::lock_guard lock(mutex_);
  auto out = nlohmann::json::object();
  for (const auto& [name, family] : families_) {
    auto values = nlohmann::json::array();
    const auto& label_names = family->label_names();
    for (const auto& sample : family->collect()) {
      auto labels = nlohmann::json::object();
      for (std::size_t i = 0; i < label_names.size(); ++i) labels[label_names[i]] = sample.labels[i];
      nlohmann::json value;
      if (sample.is_integer) {
        value = sample.integer;
      } else if (std::isfinite(sample.value)) {
        value = sample.value;
      } else {
        value = format_sample_value(sample.value);  // JSON has no NaN/Inf: "NaN", "+Inf", "-Inf"
      }
      values.push_back({{"labels", std::move(labels)}, {"value", std::move(value)}});
    }
    out[name] = {{"type", metric_type_name(family->type())}, {"help", family->help()}, {"values", std::move(values)}};
  }
  return out;
}

}  // namespace uc::telemetry
