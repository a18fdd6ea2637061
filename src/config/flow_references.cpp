#include "config/flow_references.h"

namespace uc::config {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// If line[j..] is "${...}" that makes a whole flow value, the index of its "}".
std::optional<std::size_t> reference_end(std::string_view line, std::size_t j) {
  if (line.compare(j, 2, "${") != 0) return std::nullopt;
  const std::size_t close = line.find('}', j + 2);
  if (close == std::string_view::npos || close == j + 2) return std::nullopt;
  const std::string_view inner = line.substr(j + 2, close - j - 2);
  if (inner.find_first_of("{}[],'\"#") != std::string_view::npos) return std::nullopt;
  std::size_t k = close + 1;
  while (k < line.size() && is_space(line[k])) ++k;
  if (k < line.size() && line[k] != ',' && line[k] != '}' && line[k] != ']' && line[k] != '#') return std::nullopt;
  return close;
}

}  // namespace

std::optional<FlowRewrite> quote_flow_references(std::string_view text) {
  FlowRewrite out;
  out.text = std::string(text);
  int depth = 0;             // flow collection nesting
  bool at_node = true;       // the next non-space character starts a node
  bool in_double = false;
  bool in_single = false;
  int block_indent = -1;     // inside a block scalar: lines indented more than this
  std::size_t line_begin = 0;
  int line_no = 0;
  while (line_begin <= text.size()) {
    std::size_t line_end = text.find('\n', line_begin);
    if (line_end == std::string_view::npos) line_end = text.size();
    const std::string_view line = text.substr(line_begin, line_end - line_begin);
    std::size_t indent = 0;
    while (indent < line.size() && line[indent] == ' ') ++indent;
    const bool blank = indent == line.size() || line.find_first_not_of(" \t\r") == std::string_view::npos;
    bool skip = false;
    if (block_indent >= 0) {
      if (blank || static_cast<int>(indent) > block_indent) {
        skip = true;
      } else {
        block_indent = -1;
      }
    }
    if (!skip) {
      if (depth == 0 && !in_double && !in_single) at_node = true;
      for (std::size_t j = indent; j < line.size(); ++j) {
        const char c = line[j];
        const char next = j + 1 < line.size() ? line[j + 1] : '\n';
        if (in_double) {
          if (c == '\\') {
            ++j;
          } else if (c == '"') {
            in_double = false;
          }
          continue;
        }
        if (in_single) {
          if (c == '\'') {
            if (next == '\'') {
              ++j;
            } else {
              in_single = false;
            }
          }
          continue;
        }
        if (c == '#' && (j == 0 || is_space(line[j - 1]))) break;
        if (is_space(c)) continue;
        const bool node_start = at_node;
        if (node_start) {
          at_node = false;
          if (c == '"') {
            in_double = true;
            continue;
          }
          if (c == '\'') {
            in_single = true;
            continue;
          }
          if (depth == 0 && (c == '|' || c == '>')) {
            block_indent = static_cast<int>(indent);
            break;
          }
          if (depth == 0 && c == '-' && (next == ' ' || next == '\n')) {
            at_node = true;
            continue;
          }
          if (depth > 0 && c == '$') {
            if (const auto close = reference_end(line, j)) {
              out.text[line_begin + j] = '\'';
              out.text[line_begin + j + 1] = '$';
              out.text[line_begin + *close] = '\'';
              out.positions.emplace(line_no, static_cast<int>(j));
              j = *close;
              continue;
            }
          }
        }
        if (c == '{' || c == '[') {
          if (depth > 0 || node_start) {
            ++depth;
            at_node = true;
          }
        } else if (depth > 0 && (c == '}' || c == ']')) {
          --depth;
        } else if (depth > 0 && c == ',') {
          at_node = true;
        } else if (c == ':' && (next == ' ' || next == '\n' || next == '\r' ||
                                (depth > 0 && (next == ',' || next == '}' || next == ']')))) {
          at_node = true;
        }
      }
    }
    if (line_end == text.size()) break;
    line_begin = line_end + 1;
    ++line_no;
  }
  if (out.positions.empty()) return std::nullopt;
  return out;
}

}  // namespace uc::config
