// Tag-path templates: "{site}/{area}/{line}/{equipment}/{signal_type}/{tag_name}".
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace uc::normalize {

enum class Placeholder : std::uint8_t {
  kSite, kArea, kLine, kEquipment, kSignalType, kTagName, kSource, kProtocol,
};
inline constexpr std::size_t kPlaceholderCount = 8;

// Name as written between braces ("signal_type").
std::string_view placeholder_name(Placeholder p);

// The raw (unsanitized) values a template is rendered from, indexed by Placeholder.
using PathValues = std::array<std::string_view, kPlaceholderCount>;

// A parsed template. The text is split on '/' into segments; each segment is literal text and
// placeholders. Rendering substitutes the raw values into a segment and then sanitizes the
// whole segment with sanitize_segment(), so a value containing '/' (a tag_name captured by
// "(?P<tag_name>.+)") stays inside its segment as '_', and an empty value never produces an
// empty segment ("unknown" instead).
class PathTemplate {
 public:
  // Errors (kInvalidArgument): empty template, empty segment ("a//b", leading or trailing
  // '/'), '{' without '}', '}' without '{', nested '{', and unknown placeholders, each
  // naming the 0-based character offset.
  static Result<PathTemplate> parse(std::string_view text);

  std::string render(const PathValues& values) const;
  const std::string& text() const { return text_; }
  // Whether the template uses the placeholder.
  bool uses(Placeholder p) const;

 private:
  struct Piece {
    bool is_placeholder = false;
    Placeholder placeholder = Placeholder::kSite;
    std::string literal;
  };
  using Segment = std::vector<Piece>;

  std::string text_;
  std::vector<Segment> segments_;
};

}  // namespace uc::normalize
