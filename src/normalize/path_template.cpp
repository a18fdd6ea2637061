#include "normalize/path_template.h"

#include "normalize/sanitize.h"

namespace uc::normalize {
namespace {

constexpr std::array<std::string_view, kPlaceholderCount> kNames = {
    "site", "area", "line", "equipment", "signal_type", "tag_name", "source", "protocol",
};

Status template_error(std::string_view text, std::size_t offset, const std::string& what) {
  return invalid_argument("path template \"" + std::string(text) + "\": " + what + " at offset " +
                          std::to_string(offset));
}

}  // namespace

std::string_view placeholder_name(Placeholder p) { return kNames[static_cast<std::size_t>(p)]; }

Result<PathTemplate> PathTemplate::parse(std::string_view text) {
  if (text.empty()) return invalid_argument("path template is empty");
  PathTemplate t;
  t.text_ = std::string(text);
  Segment seg;
  std::string literal;
  std::size_t seg_start = 0;
  auto flush_literal = [&] {
    if (!literal.empty()) {
      Piece p;
      p.literal = std::move(literal);
      seg.push_back(std::move(p));
      literal.clear();
    }
  };
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '/') {
      flush_literal();
      if (seg.empty()) return template_error(text, seg_start, "empty path segment");
      t.segments_.push_back(std::move(seg));
      seg.clear();
      seg_start = i + 1;
      continue;
    }
    const char c = text[i];
    if (c == '}') return template_error(text, i, "'}' without '{'");
    if (c != '{') {
      literal.push_back(c);
      continue;
    }
    const std::size_t close = text.find_first_of("{}/", i + 1);
    if (close == std::string_view::npos || text[close] != '}') {
      return template_error(text, i, "unbalanced '{'");
    }
    const std::string_view name = text.substr(i + 1, close - i - 1);
    std::size_t index = kPlaceholderCount;
    for (std::size_t k = 0; k < kPlaceholderCount; ++k) {
      if (kNames[k] == name) index = k;
    }
    if (index == kPlaceholderCount) {
      std::string known;
      for (std::string_view n : kNames) known += (known.empty() ? "{" : ", {") + std::string(n) + "}";
      return template_error(text, i, "unknown placeholder {" + std::string(name) + "} (known: " + known + ")");
    }
    flush_literal();
    Piece p;
    p.is_placeholder = true;
    p.placeholder = static_cast<Placeholder>(index);
    seg.push_back(std::move(p));
    i = close;
  }
  return t;
}

std::string PathTemplate::render(const PathValues& values) const {
  std::string path;
  std::string raw;
  for (const Segment& seg : segments_) {
    raw.clear();
    for (const Piece& p : seg) {
      if (p.is_placeholder) {
        raw += values[static_cast<std::size_t>(p.placeholder)];
      } else {
        raw += p.literal;
      }
    }
    if (!path.empty()) path.push_back('/');
    path += sanitize_segment(raw);
  }
  return path;
}

bool PathTemplate::uses(Placeholder p) const {
  for (const Segment& seg : segments_) {
    for (const Piece& piece : seg) {
      if (piece.is_placeholder && piece.placeholder == p) return true;
    }
  }
  return false;
}

}  // namespace uc::normalize
