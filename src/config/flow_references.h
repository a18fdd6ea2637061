// Accepting `${credential:NAME}` inside YAML flow collections.
//
// SPEC Appendix A writes `auth: {client_id: ${credential:zerobus_client_id}, ...}`.
// In a flow collection `{` and `}` are indicators, so that line is not valid YAML
// and yaml-cpp rejects it — yet the connector must accept the reference file as it
// stands. When (and only when) the original text fails to parse, the loader retries
// with every unquoted `${...}` that forms a whole value inside a flow collection
// rewritten in place from `${X}` to `'$X'`: same length, so every line and column
// stays true. The reader knows the positions of the rewritten scalars and turns
// their text back into `${X}` (ReadContext::rewritten_references).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace uc::config {

struct FlowRewrite {
  std::string text;
  std::set<std::pair<int, int>> positions;  // 0-based (line, column) of each rewritten scalar
};

// nullopt when there was nothing to rewrite.
std::optional<FlowRewrite> quote_flow_references(std::string_view text);

}  // namespace uc::config
