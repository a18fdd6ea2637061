#include "sources/synthetic/generator.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <numbers>

namespace uc::sources::synthetic {

const char* generator_name(Generator g) {
  switch (g) {
    case Generator::kSine: return "sine";
    case Generator::kRamp: return "ramp";
    case Generator::kRandomWalk: return "random_walk";
    case Generator::kStep: return "step";
    case Generator::kCounter: return "counter";
    case Generator::kBool: return "bool";
    case Generator::kString: return "string";
  }
  return "sine";
}

bool parse_generator(const std::string& text, Generator* out) {
  for (Generator g : {Generator::kSine, Generator::kRamp, Generator::kRandomWalk, Generator::kStep,
                      Generator::kCounter, Generator::kBool, Generator::kString}) {
    if (text == generator_name(g)) {
      *out = g;
      return true;
    }
  }
  return false;
}

std::vector<TagSpec> Options::effective_tags() const {
  if (!tags.empty()) return tags;
  // Names that read like a plant and exercise signal-type inference.
  static constexpr std::array<const char*, 7> kNames = {"temperature", "flow", "level", "pressure",
                                                        "cycle_count", "running", "mode"};
  std::vector<TagSpec> out;
  out.reserve(tag_count);
  const auto& gens = generators.empty() ? Options{}.generators : generators;
  for (std::uint32_t i = 0; i < tag_count; ++i) {
    TagSpec t;
    t.generator = gens[i % gens.size()];
    char num[16];
    auto res = std::to_chars(num, num + sizeof num, i);
    t.name = std::string(kNames[static_cast<std::size_t>(t.generator)]) + "_" + std::string(num, res.ptr);
    t.period_s = 10.0 + static_cast<double>(i % 50);
    out.push_back(std::move(t));
  }
  return out;
}

SignalGenerator::SignalGenerator(std::vector<TagSpec> tags, std::uint32_t interval_ms, std::uint64_t seed,
                                 std::string run_id)
    : tags_(std::move(tags)), interval_ms_(interval_ms), rng_(seed), run_id_(std::move(run_id)) {
  metas_.reserve(tags_.size());
  walk_.reserve(tags_.size());
  for (const auto& t : tags_) {
    auto m = std::make_shared<TagMeta>();
    m->tag_name = t.name;
    m->name_path = t.name;
    m->unit = t.unit;
    m->signal_type = t.signal_type;
    m->equipment = t.equipment;
    m->data_type = generator_name(t.generator);
    m->eng_low = t.eng_low;
    m->eng_high = t.eng_high;
    metas_.push_back(std::move(m));
    walk_.push_back((t.min + t.max) / 2);
  }
}

Value SignalGenerator::value_at(std::size_t i, double t_s) {
  const TagSpec& t = tags_[i];
  const double span = t.max - t.min;
  const double period = t.period_s > 0 ? t.period_s : 1.0;
  switch (t.generator) {
    case Generator::kSine:
      return t.min + span * (0.5 + 0.5 * std::sin(2 * std::numbers::pi * t_s / period));
    case Generator::kRamp: {
      double frac = std::fmod(t_s, period) / period;
      return t.min + span * frac;
    }
    case Generator::kRandomWalk: {
      std::normal_distribution<double> step(0.0, span * 0.01);
      walk_[i] = std::clamp(walk_[i] + step(rng_), t.min, t.max);
      return walk_[i];
    }
    case Generator::kStep:
      return (static_cast<std::int64_t>(t_s / period) % 2 == 0) ? t.min : t.max;
    case Generator::kCounter:
      return static_cast<std::int64_t>(tick_);
    case Generator::kBool:
      return static_cast<std::int64_t>(t_s / (period / 2)) % 2 == 0;
    case Generator::kString: {
      static constexpr std::array<const char*, 4> kStates = {"idle", "starting", "running", "stopping"};
      return std::string(kStates[static_cast<std::size_t>(t_s / (period / 4)) % kStates.size()]);
    }
  }
  return {};
}

void SignalGenerator::tick(TimestampUs now, SampleBatch& out) {
  const double t_s = static_cast<double>(tick_) * (interval_ms_ > 0 ? interval_ms_ : 1) / 1000.0;
  char seq[24];
  auto res = std::to_chars(seq, seq + sizeof seq, tick_);
  std::string seq_text(seq, res.ptr);
  out.reserve(out.size() + tags_.size());
  for (std::size_t i = 0; i < tags_.size(); ++i) {
    Sample s;
    s.address = tags_[i].name;
    s.meta = metas_[i];
    s.value = value_at(i, t_s);
    s.source_time = now;
    s.receive_time = now;
    const auto bad_every = tags_[i].bad_every;
    if (bad_every > 0 && tick_ % bad_every == bad_every - 1) {
      s.status.kind = ProtocolStatus::Kind::kCommError;
      s.status.text = "simulated communication error";
    }
    s.metadata.emplace_back("seq", seq_text);
    if (!run_id_.empty()) s.metadata.emplace_back("run", run_id_);
    out.push_back(std::move(s));
  }
  ++tick_;
}

}  // namespace uc::sources::synthetic
