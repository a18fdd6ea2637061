// Metrics registry and Prometheus text exposition (format 0.0.4).
//
// Contract:
//  - Families are registered once, at startup, under the registry mutex. Names
//    are validated then ([a-zA-Z_:][a-zA-Z0-9_:]* for metric names,
//    [a-zA-Z_][a-zA-Z0-9_]* for label names, no "__" prefix); an invalid name is
//    an error value from add_*() or an exception from the throwing helpers.
//  - family.with({label values}) looks a cell up (creating it on first use)
//    under the family mutex and returns a reference that stays valid for the
//    life of the registry. Callers keep the reference; the hot-path update on it
//    is one relaxed atomic operation and takes no lock.
//  - Counter family names always end in "_total": "x" is registered as
//    "x_total", "x_total" stays as it is.
//  - Callback cells are evaluated at scrape time (render_prometheus / to_json)
//    on the scraping thread, while the family mutex is held: a callback must be
//    cheap, thread-safe, and must not call back into the registry.
//  - Label values are arbitrary bytes (UTF-8 expected); the exposition escapes
//    backslash, double quote and newline.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace uc::telemetry {

enum class MetricType { kCounter, kGauge };

const char* metric_type_name(MetricType type);

bool is_valid_metric_name(std::string_view name);
bool is_valid_label_name(std::string_view name);

using LabelValues = std::vector<std::string>;

// A monotonically increasing count.
class Counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double v) noexcept { value_.fetch_add(v, std::memory_order_relaxed); }
  void sub(double v) noexcept { value_.fetch_sub(v, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Common part of every family: name, help, label names, and the lock that
// guards its cell map (never the cells' values).
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names, MetricType type)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)), type_(type) {}
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  MetricType type() const { return type_; }

  // One sample per cell, label values in label_names() order; sorted by labels.
  struct Sample {
    LabelValues labels;
    double value = 0;
    bool is_integer = false;
    std::uint64_t integer = 0;
  };
  virtual std::vector<Sample> collect() const = 0;

 protected:
  // Throws std::invalid_argument when the number of values is wrong: that is a
  // programming error, found by the first test that touches the call site.
  void check_arity(const LabelValues& values) const;

  mutable std::mutex mutex_;

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  MetricType type_;
};

class CounterFamily final : public FamilyBase {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names);

  Counter& with(const LabelValues& values);
  Counter& with(std::initializer_list<std::string_view> values);
  // A counter kept elsewhere (e.g. a component's own atomic), read at scrape time
  // under the family lock. It must be monotonic; it is added to the direct cell of
  // the same labels, if any.
  void set_callback(const LabelValues& values, std::function<std::uint64_t()> callback);
  std::vector<Sample> collect() const override;

 private:
  std::map<LabelValues, std::unique_ptr<Counter>> cells_;
  std::map<LabelValues, std::function<std::uint64_t()>> callbacks_;
};

// Gauge cells are either set directly (with()) or computed at scrape time
// (set_callback()). A callback replaces the direct value of the same labels.
class GaugeFamily final : public FamilyBase {
 public:
  GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names);

  Gauge& with(const LabelValues& values);
  Gauge& with(std::initializer_list<std::string_view> values);

  // Installs (or replaces) the scrape-time callback for these labels. The
  // callback must stay valid until remove_callback() for the same labels.
  void set_callback(const LabelValues& values, std::function<double()> callback);
  // Removes the callback; the series disappears unless with() was used for it.
  void remove_callback(const LabelValues& values);

  std::vector<Sample> collect() const override;

 private:
  struct Cell {
    Gauge gauge;
    std::function<double()> callback;
    bool direct = false;
  };
  std::map<LabelValues, std::unique_ptr<Cell>> cells_;
};

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Registering the same name again with the same type, help and labels
  // returns the existing family; any other clash is ALREADY_EXISTS.
  Result<CounterFamily*> add_counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  Result<GaugeFamily*> add_gauge(std::string name, std::string help, std::vector<std::string> label_names = {});

  // Startup-time variants: throw std::invalid_argument with the Status message.
  CounterFamily& counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});

  // Prometheus text exposition format 0.0.4, families sorted by name.
  std::string render_prometheus() const;

  // {family: {"type": "counter"|"gauge", "help": ..., "values": [{"labels": {...}, "value": v}]}}
  nlohmann::json to_json() const;

 private:
  template <typename F>
  Result<F*> add_family(std::string name, std::string help, std::vector<std::string> label_names, MetricType type);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_;
};

// Exposition helpers, exposed for tests and other renderers.
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);
std::string format_sample_value(double value);

}  // namespace uc::telemetry
