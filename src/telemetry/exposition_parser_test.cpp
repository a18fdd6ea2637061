// Round-trips the exposition through the reference parser (Python
// prometheus_client, the Debian package python3-prometheus-client). A missing
// parser is a failure, not a skip: scripts/install-deps.sh installs it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "telemetry/metrics.h"

namespace uc::telemetry {
namespace {

// Parses the file named by argv[1]; prints [{name, type, help, samples: [{name, labels, value}]}].
// Values are printed with repr() so NaN and infinities survive JSON.
constexpr const char* kParser = R"PY(
import json, sys
from prometheus_client.parser import text_string_to_metric_families
with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
out = []
for fam in text_string_to_metric_families(text):
    out.append({"name": fam.name, "type": fam.type, "help": fam.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": repr(float(s.value))}
                            for s in fam.samples]})
print(json.dumps(out))
)PY";

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("uc_exposition_" + std::to_string(getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

nlohmann::json parse_with_reference_parser(const std::string& exposition) {
  TempDir dir;
  const auto text_file = dir.path() / "metrics.prom";
  const auto script_file = dir.path() / "parse.py";
  std::ofstream(text_file, std::ios::binary) << exposition;
  std::ofstream(script_file, std::ios::binary) << kParser;
  const auto result = run("/usr/bin/python3 " + script_file.string() + " " + text_file.string() + " 2>&1");
  if (result.exit_code != 0) {
    ADD_FAILURE() << "the reference parser failed (exit " << result.exit_code
                  << "); /usr/bin/python3 needs python3-prometheus-client (scripts/install-deps.sh):\n"
                  << result.output;
    return nlohmann::json::array();
  }
  return nlohmann::json::parse(result.output);
}

const nlohmann::json* find_family(const nlohmann::json& families, const std::string& name) {
  for (const auto& f : families) {
    if (f["name"] == name) return &f;
  }
  return nullptr;
}

TEST(ExpositionParser, TrickyLabelValuesRoundTrip) {
  const std::vector<std::string> tricky = {
      "plain",
      "",
      "quote \" inside",
      "back\\slash",
      "trailing backslash \\",
      "literal backslash-n \\n",
      "real\nnewline",
      "braces } { and , comma = equals",
      "温度 °C — ✓ 🚀",
      "# not a comment",
      "tab\there",
      "\\\"",
      "ns=2;s=Line1/Mixer.Temp[0]",
  };

  MetricsRegistry reg;
  auto& counter = reg.counter("uc_tricky", "Counter with tricky labels; help has \\ and\nnewline.", {"source", "k"});
  auto& gauge = reg.gauge("uc_tricky_gauge", "Gauge \"quoted\" help.", {"v"});
  reg.gauge("uc_empty_family", "Has no cells.", {"x"});
  reg.counter("uc_records_received_total", "Samples received from a source.", {"source"}).with({"plc1"}).inc(3);

  for (std::size_t i = 0; i < tricky.size(); ++i) {
    counter.with({tricky[i], std::to_string(i)}).inc(i + 1);
    gauge.with({tricky[i]}).set(static_cast<double>(i) + 0.25);
  }
  auto& specials = reg.gauge("uc_specials", "Special values.", {"kind"});
  specials.with({"nan"}).set(std::nan(""));
  specials.with({"pinf"}).set(std::numeric_limits<double>::infinity());
  specials.with({"ninf"}).set(-std::numeric_limits<double>::infinity());
  specials.with({"tiny"}).set(-1.5e-300);
  specials.with({"big"}).set(1.7976931348623157e308);
  specials.with({"tenth"}).set(0.1);
  reg.counter("uc_big_counter", "Large counter.").with({}).inc(std::uint64_t{1} << 53);

  const auto families = parse_with_reference_parser(reg.render_prometheus());
  ASSERT_TRUE(families.is_array());

  // Counters lose "_total" in the parsed family name and keep it on samples.
  const auto* c = find_family(families, "uc_tricky");
  ASSERT_NE(c, nullptr) << families.dump(1);
  EXPECT_EQ((*c)["type"], "counter");
  EXPECT_EQ((*c)["help"], "Counter with tricky labels; help has \\ and\nnewline.");
  ASSERT_EQ((*c)["samples"].size(), tricky.size());
  std::size_t matched = 0;
  for (const auto& s : (*c)["samples"]) {
    EXPECT_EQ(s["name"], "uc_tricky_total");
    const auto index = std::stoul(s["labels"]["k"].get<std::string>());
    ASSERT_LT(index, tricky.size());
    EXPECT_EQ(s["labels"]["source"], tricky[index]);
    EXPECT_EQ(s["value"], std::to_string(index + 1) + ".0");
    ++matched;
  }
  EXPECT_EQ(matched, tricky.size());

  const auto* g = find_family(families, "uc_tricky_gauge");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ((*g)["type"], "gauge");
  EXPECT_EQ((*g)["help"], "Gauge \"quoted\" help.");
  std::set<std::string> seen;
  for (const auto& s : (*g)["samples"]) {
    const auto value = s["labels"]["v"].get<std::string>();
    const auto it = std::find(tricky.begin(), tricky.end(), value);
    ASSERT_NE(it, tricky.end()) << "unexpected label value " << value;
    const auto i = static_cast<double>(it - tricky.begin());
    EXPECT_DOUBLE_EQ(std::stod(s["value"].get<std::string>()), i + 0.25);
    seen.insert(value);
  }
  EXPECT_EQ(seen.size(), tricky.size());

  const auto* e = find_family(families, "uc_empty_family");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ((*e)["type"], "gauge");
  EXPECT_TRUE((*e)["samples"].empty());

  const auto* sp = find_family(families, "uc_specials");
  ASSERT_NE(sp, nullptr);
  std::map<std::string, std::string> values;
  for (const auto& s : (*sp)["samples"]) values[s["labels"]["kind"]] = s["value"];
  EXPECT_EQ(values["nan"], "nan");
  EXPECT_EQ(values["pinf"], "inf");
  EXPECT_EQ(values["ninf"], "-inf");
  EXPECT_EQ(values["tiny"], "-1.5e-300");
  EXPECT_EQ(values["big"], "1.7976931348623157e+308");
  EXPECT_EQ(values["tenth"], "0.1");

  const auto* big = find_family(families, "uc_big_counter");
  ASSERT_NE(big, nullptr);
  EXPECT_EQ((*big)["samples"][0]["value"], "9007199254740992.0");

  const auto* received = find_family(families, "uc_records_received");
  ASSERT_NE(received, nullptr);
  EXPECT_EQ((*received)["samples"][0]["labels"]["source"], "plc1");

  // Every registered family came back, under its own HELP/TYPE.
  EXPECT_EQ(families.size(), reg.to_json().size());
}

}  // namespace
}  // namespace uc::telemetry
