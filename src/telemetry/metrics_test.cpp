#include "telemetry/metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>


namespace uc::telemetry {
namespace {

TEST(Metrics, CounterCellsAreStableAndCount) {
  MetricsRegistry reg;
  auto& fam = reg.counter("requests", "Requests.", {"method"});
  EXPECT_EQ(fam.name(), "requests_total");
  Counter& get = fam.with({"GET"});
  get.inc();
  get.inc(41);
  EXPECT_EQ(&get, &fam.with({"GET"}));
  EXPECT_EQ(fam.with({"GET"}).value(), 42u);
  EXPECT_EQ(fam.with({"POST"}).value(), 0u);
}

TEST(Metrics, CounterNameKeepsExistingTotalSuffix) {
  MetricsRegistry reg;
  EXPECT_EQ(reg.counter("x_total", "X.").name(), "x_total");
}

TEST(Metrics, GaugeSetAddSub) {
  MetricsRegistry reg;
  auto& g = reg.gauge("temperature", "T.", {"room"}).with({"a"});
  g.set(20.5);
  g.add(1.25);
  g.sub(0.75);
  EXPECT_DOUBLE_EQ(g.value(), 21.0);
}

TEST(Metrics, CallbackGaugeEvaluatedAtScrapeAndRemovable) {
  MetricsRegistry reg;
  auto& fam = reg.gauge("queue_size", "Q.", {"target"});
  double size = 3;
  fam.set_callback({"t1"}, [&size] { return size; });
  EXPECT_NE(reg.render_prometheus().find("queue_size{target=\"t1\"} 3\n"), std::string::npos);
  size = 7;
  EXPECT_NE(reg.render_prometheus().find("queue_size{target=\"t1\"} 7\n"), std::string::npos);
  fam.remove_callback({"t1"});
  EXPECT_EQ(reg.render_prometheus().find("t1"), std::string::npos);
}

TEST(Metrics, CallbackOverridesDirectValueAndDirectSurvivesRemoval) {
  MetricsRegistry reg;
  auto& fam = reg.gauge("g", "G.", {"k"});
  Gauge& direct = fam.with({"a"});
  direct.set(1);
  fam.set_callback({"a"}, [] { return 5.0; });
  EXPECT_NE(reg.render_prometheus().find("g{k=\"a\"} 5\n"), std::string::npos);
  fam.remove_callback({"a"});
  direct.set(2);  // the reference is still valid
  EXPECT_NE(reg.render_prometheus().find("g{k=\"a\"} 2\n"), std::string::npos);
}

TEST(Metrics, WrongNumberOfLabelValuesThrows) {
  MetricsRegistry reg;
  auto& fam = reg.counter("c", "C.", {"a", "b"});
  EXPECT_THROW(fam.with({"x"}), std::invalid_argument);
  EXPECT_THROW(fam.with({"x", "y", "z"}), std::invalid_argument);
}

TEST(Metrics, NamesAreValidatedAtRegistration) {
  MetricsRegistry reg;
  EXPECT_FALSE(reg.add_counter("", "h").is_ok());
  EXPECT_FALSE(reg.add_counter("1abc", "h").is_ok());
  EXPECT_FALSE(reg.add_counter("a-b", "h").is_ok());
  EXPECT_FALSE(reg.add_gauge("a b", "h").is_ok());
  EXPECT_FALSE(reg.add_gauge("é", "h").is_ok());
  EXPECT_TRUE(reg.add_gauge("ns:sub_system:name_1", "h").is_ok());
  EXPECT_TRUE(reg.add_gauge("_x", "h").is_ok());

  EXPECT_FALSE(reg.add_gauge("l1", "h", {"a:b"}).is_ok());  // no colons in label names
  EXPECT_FALSE(reg.add_gauge("l2", "h", {"__reserved"}).is_ok());
  EXPECT_FALSE(reg.add_gauge("l3", "h", {"9"}).is_ok());
  EXPECT_FALSE(reg.add_gauge("l4", "h", {"a", "a"}).is_ok());
  auto bad = reg.add_gauge("l5", "h", {"bad-label"});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("bad-label"), std::string::npos);
  EXPECT_THROW(reg.counter("bad name", "h"), std::invalid_argument);
  // Nothing invalid was registered.
  EXPECT_EQ(reg.to_json().size(), 2u);
}

TEST(Metrics, ReRegistrationIsIdempotentButClashesFail) {
  MetricsRegistry reg;
  auto a = reg.add_counter("c", "Help.", {"x"});
  auto b = reg.add_counter("c_total", "Help.", {"x"});
  ASSERT_TRUE(a.is_ok());
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(reg.add_counter("c", "Other help.", {"x"}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(reg.add_counter("c", "Help.", {"y"}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(reg.add_gauge("c_total", "Help.", {"x"}).status().code(), StatusCode::kAlreadyExists);
}

TEST(Metrics, ConcurrentIncrementsAreExact) {
  MetricsRegistry reg;
  auto& fam = reg.counter("hits", "Hits.", {"worker"});
  auto& shared_gauge = reg.gauge("level", "Level.").with({});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&fam, &shared_gauge, t] {
      // Half the threads share one cell; all of them also look cells up
      // concurrently with each other and with scrapes.
      Counter& mine = fam.with({t % 2 == 0 ? "even" : std::to_string(t)});
      for (int i = 0; i < kPerThread; ++i) {
        mine.inc();
        fam.with({"shared"}).inc();
        shared_gauge.add(1.0);
      }
    });
  }
  std::thread scraper([&reg] {
    for (int i = 0; i < 50; ++i) (void)reg.render_prometheus();
  });
  for (auto& t : threads) t.join();
  scraper.join();
  EXPECT_EQ(fam.with({"shared"}).value(), static_cast<std::uint64_t>(kThreads) * kPerThread);
  EXPECT_EQ(fam.with({"even"}).value(), static_cast<std::uint64_t>(kThreads / 2) * kPerThread);
  EXPECT_EQ(fam.with({"1"}).value(), static_cast<std::uint64_t>(kPerThread));
  EXPECT_DOUBLE_EQ(shared_gauge.value(), static_cast<double>(kThreads) * kPerThread);
}

TEST(Metrics, ExpositionTextIsExact) {
  MetricsRegistry reg;
  auto& sent = reg.counter("uc_batches_sent", "Batches sent.", {"target"});
  sent.with({"b"}).inc(2);
  sent.with({"a"}).inc(10);
  reg.gauge("uc_queue_size", "Records queued.", {"target"}).with({"a"}).set(1.5);
  reg.gauge("uc_empty", "No cells yet.", {"target"});
  reg.gauge("uc_up", "Up.").with({}).set(1);
  reg.counter("uc_a_first", "Line one\nline two \\ backslash.");

  const std::string expected =
      "# HELP uc_a_first_total Line one\\nline two \\\\ backslash.\n"
      "# TYPE uc_a_first_total counter\n"
      "uc_a_first_total 0\n"
      "# HELP uc_batches_sent_total Batches sent.\n"
      "# TYPE uc_batches_sent_total counter\n"
      "uc_batches_sent_total{target=\"a\"} 10\n"
      "uc_batches_sent_total{target=\"b\"} 2\n"
      "# HELP uc_empty No cells yet.\n"
      "# TYPE uc_empty gauge\n"
      "# HELP uc_queue_size Records queued.\n"
      "# TYPE uc_queue_size gauge\n"
      "uc_queue_size{target=\"a\"} 1.5\n"
      "# HELP uc_up Up.\n"
      "# TYPE uc_up gauge\n"
      "uc_up 1\n";
  EXPECT_EQ(reg.render_prometheus(), expected);
}

TEST(Metrics, LabelValuesAreEscaped) {
  MetricsRegistry reg;
  auto& fam = reg.gauge("g", "G.", {"a", "b"});
  fam.with({"quote\"back\\slash", "new\nline"}).set(1);
  fam.with({"温度 °C ✓", ""}).set(2);
  const std::string text = reg.render_prometheus();
  EXPECT_NE(text.find("g{a=\"quote\\\"back\\\\slash\",b=\"new\\nline\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("g{a=\"温度 °C ✓\",b=\"\"} 2\n"), std::string::npos) << text;
  EXPECT_EQ(escape_label_value("a\\nb"), "a\\\\nb");  // a literal backslash-n is not a newline
}

TEST(Metrics, SampleValueFormatting) {
  EXPECT_EQ(format_sample_value(0), "0");
  EXPECT_EQ(format_sample_value(-2.5), "-2.5");
  EXPECT_EQ(format_sample_value(0.1), "0.1");
  EXPECT_EQ(format_sample_value(1e300), "1e+300");
  EXPECT_EQ(format_sample_value(100000), "100000");  // counters in plain digits, not 1e+05
  EXPECT_EQ(format_sample_value(-3e6), "-3000000");
  EXPECT_EQ(format_sample_value(9007199254740991.0), "9007199254740991");
  EXPECT_EQ(format_sample_value(1e17), "1e+17");
  EXPECT_EQ(format_sample_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_sample_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_sample_value(std::nan("")), "NaN");
}

TEST(Metrics, JsonForm) {
  MetricsRegistry reg;
  reg.counter("uc_records_received", "Received.", {"source"}).with({"plc \"1\""}).inc(5);
  auto& g = reg.gauge("uc_queue_size", "Queued.", {"target"});
  g.with({"lake"}).set(2.5);
  g.with({"bad"}).set(std::numeric_limits<double>::infinity());
  reg.gauge("uc_empty", "Empty.", {"x"});

  const auto j = reg.to_json();
  const auto expected = nlohmann::json::parse(R"({
    "uc_empty": {"type": "gauge", "help": "Empty.", "values": []},
    "uc_queue_size": {"type": "gauge", "help": "Queued.", "values": [
      {"labels": {"target": "bad"}, "value": "+Inf"},
      {"labels": {"target": "lake"}, "value": 2.5}]},
    "uc_records_received_total": {"type": "counter", "help": "Received.", "values": [
      {"labels": {"source": "plc \"1\""}, "value": 5}]}
  })");
  EXPECT_EQ(j, expected) << j.dump(2);
  EXPECT_TRUE(j["uc_records_received_total"]["values"][0]["value"].is_number_unsigned());
}

TEST(CounterFamily, CallbackCountersAreReadAtScrapeTimeAndAddToDirectCells) {
  MetricsRegistry registry;
  auto& family = registry.counter("uc_things_total", "Things.", {"source"});
  std::atomic<std::uint64_t> external{5};
  family.set_callback({"a"}, [&] { return external.load(); });
  family.with({"a"}).inc(2);
  family.with({"b"}).inc(1);
  external = 40;
  const std::string text = registry.render_prometheus();
  EXPECT_NE(text.find("uc_things_total{source=\"a\"} 42\n"), std::string::npos) << text;
  EXPECT_NE(text.find("uc_things_total{source=\"b\"} 1\n"), std::string::npos) << text;
  EXPECT_THROW(family.set_callback({"a", "b"}, [] { return std::uint64_t{0}; }), std::invalid_argument);
}

}  // namespace
}  // namespace uc::telemetry
