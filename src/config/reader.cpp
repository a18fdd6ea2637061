#include "config/reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <system_error>

namespace uc::config {
namespace {

constexpr std::size_t kMaxQuoted = 80;

bool mark_is_null(const YAML::Mark& mark) { return mark.line < 0 || mark.column < 0; }

YAML::Mark node_mark(const YamlNode& node, const YAML::Mark& fallback) {
  if (!node.is_defined()) return fallback;
  const YAML::Mark m = node.mark();
  return mark_is_null(m) ? fallback : m;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "must be between 1 and 65535, got 70000" and its one-sided forms.
std::string range_message(std::int64_t min, std::int64_t max, std::int64_t got) {
  if (max == Reader::kMaxInt) return "must be at least " + std::to_string(min) + ", got " + std::to_string(got);
  if (min == Reader::kMinInt) return "must be at most " + std::to_string(max) + ", got " + std::to_string(got);
  return "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + std::to_string(got);
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1);
  std::vector<std::size_t> cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<std::string> closest_match(std::string_view key, const std::vector<std::string>& allowed) {
  std::optional<std::string> best;
  std::size_t best_distance = 3;
  for (const std::string& candidate : allowed) {
    const std::size_t d = edit_distance(key, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string quote(std::string_view text) {
  std::string out = "\"";
  std::size_t n = 0;
  for (const char c : text) {
    if (n++ == kMaxQuoted) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

Reader::Reader(const ReadContext& context, YamlNode node, std::string path, YAML::Mark mark)
    : context_(&context), node_(node), path_(std::move(path)), mark_(mark) {}

Reader Reader::root(const ReadContext& context, const YamlNode& node) {
  YAML::Mark start;  // 0:0, shown as 1:1
  return Reader(context, node, "", node_mark(node, start));
}

Location Reader::location() const {
  if (mark_is_null(mark_)) return {};
  return {mark_.line + 1, mark_.column + 1};
}

std::string Reader::describe() const {
  if (is_null()) return "null";
  if (node_.is_map()) return "a map";
  if (node_.is_sequence()) return "a list";
  return quote(raw_scalar());
}

std::string Reader::raw_scalar() const {
  if (!node_.is_scalar()) return {};
  const std::string_view text = node_.scalar();
  const auto* rewritten = context_->rewritten_references.get();
  if (rewritten != nullptr && !text.empty() && text.front() == '$') {
    const YAML::Mark m = node_.mark();
    if (rewritten->count({m.line, m.column}) != 0) return "${" + std::string(text.substr(1)) + "}";
  }
  return std::string(text);
}

void Reader::error(std::string message) const {
  context_->errors->add(context_->file, mark_, path_, std::move(message));
}

void Reader::note(std::string message) const {
  context_->errors->add_note(context_->file, mark_, path_, std::move(message));
}

void Reader::note_at(std::string_view key, std::string message) const {
  if (const auto c = child(key)) {
    c->note(std::move(message));
  } else {
    note(std::move(message));
  }
}

void Reader::error_at(std::string_view key, std::string message) const {
  if (const auto c = child(key)) {
    c->error(std::move(message));
  } else {
    error(std::move(message));
  }
}

void Reader::missing(std::string_view key) const {
  context_->errors->add(context_->file, mark_, path_, "missing required key \"" + std::string(key) + "\"",
                        std::string(key));
}

std::string Reader::child_path(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  std::string out = path_;
  out += '.';
  out += key;
  return out;
}

std::optional<std::pair<YamlNode, YAML::Mark>> Reader::find(std::string_view key) const {
  if (!node_.is_map()) return std::nullopt;
  for (std::size_t i = 0; i < node_.size(); ++i) {
    const YamlNode k = node_.key(i);
    if (k.is_scalar() && k.scalar() == key) return std::make_pair(node_.value(i), node_mark(k, mark_));
  }
  return std::nullopt;
}

bool Reader::has(std::string_view key) const { return find(key).has_value(); }

YAML::Mark Reader::key_mark(std::string_view key) const {
  const auto found = find(key);
  return found ? found->second : mark_;
}

std::optional<Reader> Reader::child(std::string_view key) const {
  auto found = find(key);
  if (!found) return std::nullopt;
  // A null value (`key:`) has the position after it; the key's is clearer.
  const YAML::Mark m = found->first.is_null() ? found->second : node_mark(found->first, found->second);
  return Reader(*context_, found->first, child_path(key), m);
}

std::optional<Reader> Reader::present(std::string_view key) const {
  auto c = child(key);
  if (!c || c->is_null()) return std::nullopt;
  return c;
}

void Reader::check_keys(const std::vector<std::string>& allowed) const {
  if (!node_.is_map()) return;
  std::set<std::string, std::less<>> seen;
  for (std::size_t i = 0; i < node_.size(); ++i) {
    const YamlNode k = node_.key(i);
    const YAML::Mark m = node_mark(k, mark_);
    if (!k.is_scalar()) {
      context_->errors->add(context_->file, m, path_, "keys must be strings");
      continue;
    }
    const std::string name(k.scalar());
    if (!seen.insert(name).second) {
      context_->errors->add(context_->file, m, path_, "duplicate key \"" + name + "\"", name);
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
    std::string message = "unknown key " + quote(name);
    if (const auto suggestion = closest_match(name, allowed)) message += "; did you mean \"" + *suggestion + "\"?";
    context_->errors->add(context_->file, m, path_, std::move(message), name);
  }
}

std::optional<Reader> Reader::get_object(std::string_view key) const {
  auto c = present(key);
  if (!c) return std::nullopt;
  if (!c->is_map()) {
    c->error("expected a map, got " + c->describe());
    return std::nullopt;
  }
  return c;
}

std::optional<Reader> Reader::require_object(std::string_view key) const {
  if (!has(key)) {
    missing(key);
    return std::nullopt;
  }
  auto c = child(key);
  if (!c->is_map()) {
    c->error("expected a map, got " + c->describe());
    return std::nullopt;
  }
  return c;
}

std::vector<Reader> Reader::items() const {
  std::vector<Reader> out;
  if (is_null()) return out;
  if (!node_.is_sequence()) {
    error("expected a list, got " + describe());
    return out;
  }
  out.reserve(node_.size());
  for (std::size_t i = 0; i < node_.size(); ++i) {
    const YamlNode element = node_.item(i);
    out.emplace_back(*context_, element, path_ + "[" + std::to_string(i) + "]", node_mark(element, mark_));
  }
  return out;
}

std::vector<Reader> Reader::get_list(std::string_view key) const {
  auto c = present(key);
  if (!c) return {};
  return c->items();
}

std::vector<Reader::Entry> Reader::entries() const {
  std::vector<Entry> out;
  if (is_null()) return out;
  if (!node_.is_map()) {
    error("expected a map, got " + describe());
    return out;
  }
  for (std::size_t i = 0; i < node_.size(); ++i) {
    const YamlNode k = node_.key(i);
    const YAML::Mark km = node_mark(k, mark_);
    if (!k.is_scalar()) {
      context_->errors->add(context_->file, km, path_, "keys must be strings");
      continue;
    }
    const std::string name(k.scalar());
    out.push_back({name, km, Reader(*context_, node_.value(i), child_path(name), node_mark(node_.value(i), km))});
  }
  return out;
}

std::optional<std::string> Reader::scalar_text(std::string_view expected) const {
  if (!node_.is_scalar()) {
    error("expected " + std::string(expected) + ", got " + describe());
    return std::nullopt;
  }
  Result<std::string> text = substitute_env(raw_scalar(), context_->env);
  if (!text) {
    error(text.status().message());
    return std::nullopt;
  }
  return std::move(text).value();
}

std::optional<std::string> Reader::as_string() const { return scalar_text("a string"); }

std::optional<bool> Reader::as_bool() const {
  const auto text = scalar_text("true or false");
  if (!text) return std::nullopt;
  const std::string t = lower(*text);
  if (t == "true" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "no" || t == "off") return false;
  error("expected true or false, got " + quote(*text));
  return std::nullopt;
}

std::optional<std::int64_t> Reader::as_int(std::int64_t min, std::int64_t max) const {
  const auto text = scalar_text("an integer");
  if (!text) return std::nullopt;
  std::string_view digits = *text;
  bool negative = false;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  }
  std::uint64_t magnitude = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (digits.empty() || end != digits.data() + digits.size() || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    error("expected an integer, got " + quote(*text));
    return std::nullopt;
  }
  constexpr auto kMaxMagnitude = static_cast<std::uint64_t>(kMaxInt);
  if (ec == std::errc::result_out_of_range || magnitude > kMaxMagnitude + (negative ? 1U : 0U)) {
    error("integer out of range, got " + quote(*text));
    return std::nullopt;
  }
  std::int64_t value = 0;
  if (negative) {
    value = magnitude == kMaxMagnitude + 1U ? kMinInt : -static_cast<std::int64_t>(magnitude);
  } else {
    value = static_cast<std::int64_t>(magnitude);
  }
  if (value < min || value > max) {
    error(range_message(min, max, value));
    return std::nullopt;
  }
  return value;
}

std::optional<double> Reader::as_double() const {
  const auto text = scalar_text("a number");
  if (!text) return std::nullopt;
  std::string_view s = *text;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value)) {
    error("expected a number, got " + quote(*text));
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> Reader::as_enum(const std::vector<std::string>& allowed) const {
  const auto text = scalar_text("one of " + join(allowed, " | "));
  if (!text) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *text) != allowed.end()) return text;
  error("expected one of " + join(allowed, " | ") + ", got " + quote(*text));
  return std::nullopt;
}

Secret Reader::as_secret() const {
  Secret secret;
  if (context_->secret_paths != nullptr) context_->secret_paths->insert(path_);
  if (is_null()) return secret;
  if (!node_.is_scalar()) {
    error("expected a string, got " + describe());
    return secret;
  }
  const std::string raw = raw_scalar();
  if (const auto name = whole_credential_reference(raw)) {
    if (!is_valid_credential_name(*name)) {
      error("invalid credential name " + quote(*name));
      return secret;
    }
    secret.reference = *name;
    if (context_->resolver == nullptr) {
      secret.resolved = false;
      return secret;
    }
    Result<std::string> value = context_->resolver->resolve(*name);
    if (!value) {
      error("cannot resolve credential \"" + *name + "\": " + value.status().to_string());
      secret.resolved = false;
      return secret;
    }
    secret.value = std::move(value).value();
    return secret;
  }
  Result<std::string> text = substitute_env(raw, context_->env);
  if (!text) {
    std::string message = text.status().message();
    if (raw.find("${credential:") != std::string::npos) {
      message = "a credential reference must be the whole value, as in ${credential:NAME}";
    }
    error(std::move(message));
    return secret;
  }
  secret.value = std::move(text).value();
  return secret;
}

std::optional<std::string> Reader::get_string(std::string_view key) const {
  const auto c = present(key);
  return c ? c->as_string() : std::nullopt;
}

std::string Reader::get_string(std::string_view key, std::string fallback) const {
  return get_string(key).value_or(std::move(fallback));
}

std::optional<std::string> Reader::require_string(std::string_view key) const {
  const auto c = child(key);
  if (!c) {
    missing(key);
    return std::nullopt;
  }
  return c->as_string();
}

std::optional<bool> Reader::get_bool(std::string_view key) const {
  const auto c = present(key);
  return c ? c->as_bool() : std::nullopt;
}

bool Reader::get_bool(std::string_view key, bool fallback) const { return get_bool(key).value_or(fallback); }

std::optional<std::int64_t> Reader::get_int(std::string_view key, std::int64_t min, std::int64_t max) const {
  const auto c = present(key);
  return c ? c->as_int(min, max) : std::nullopt;
}

std::int64_t Reader::get_int_or(std::string_view key, std::int64_t fallback, std::int64_t min,
                                std::int64_t max) const {
  return get_int(key, min, max).value_or(fallback);
}

std::optional<std::int64_t> Reader::require_int(std::string_view key, std::int64_t min, std::int64_t max) const {
  const auto c = child(key);
  if (!c) {
    missing(key);
    return std::nullopt;
  }
  return c->as_int(min, max);
}

std::optional<double> Reader::get_double(std::string_view key) const {
  const auto c = present(key);
  return c ? c->as_double() : std::nullopt;
}

double Reader::get_double(std::string_view key, double fallback) const { return get_double(key).value_or(fallback); }

std::optional<std::string> Reader::get_enum(std::string_view key, const std::vector<std::string>& allowed) const {
  const auto c = present(key);
  return c ? c->as_enum(allowed) : std::nullopt;
}

std::string Reader::get_enum(std::string_view key, const std::vector<std::string>& allowed,
                             std::string fallback) const {
  return get_enum(key, allowed).value_or(std::move(fallback));
}

Secret Reader::get_secret(std::string_view key) const {
  const auto c = child(key);
  return c ? c->as_secret() : Secret{};
}

std::vector<std::string> Reader::get_string_list(std::string_view key) const {
  std::vector<std::string> out;
  for (const Reader& item : get_list(key)) {
    if (auto s = item.as_string()) out.push_back(std::move(*s));
  }
  return out;
}

std::vector<std::int64_t> Reader::get_int_list(std::string_view key, std::int64_t min, std::int64_t max) const {
  std::vector<std::int64_t> out;
  for (const Reader& item : get_list(key)) {
    if (auto v = item.as_int(min, max)) out.push_back(*v);
  }
  return out;
}

std::optional<std::string> Reader::peek_string(std::string_view key) const {
  Errors scratch;
  ReadContext quiet = *context_;
  quiet.errors = &scratch;
  quiet.resolver = nullptr;
  const auto c = present(key);
  if (!c) return std::nullopt;
  return Reader(quiet, c->node(), c->path(), c->mark()).as_string();
}

}  // namespace uc::config
