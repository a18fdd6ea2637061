#include "config/yaml_documents.h"

#include <cstddef>
#include <optional>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

namespace uc::config {
namespace {

// Records the start of the last document; ignores everything else.
class DocumentStarts final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { last = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  std::optional<YAML::Mark> last;
};

std::string stuck_message(const std::string& text, const YAML::Mark& at) {
  if (at.pos >= 0 && static_cast<std::size_t>(at.pos) < text.size()) {
    const char c = text[static_cast<std::size_t>(at.pos)];
    if (c == ',') return "unexpected ','; a comma separates entries only inside [ ] or { }";
    if (c > ' ' && c < 0x7f) return std::string("unexpected '") + c + "'";
  }
  return "unexpected token";
}

// Walks the documents as LoadAll would and throws where LoadAll would loop.
void check_documents_end(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  std::optional<YAML::Mark> previous;
  // Each document of text that parses consumes at least one byte of it, so more
  // documents than bytes cannot happen; the bound only makes termination obvious.
  for (std::size_t documents = 0; parser.HandleNextDocument(starts); ++documents) {
    if (previous && starts.last && previous->pos == starts.last->pos) {
      throw YAML::ParserException(*starts.last, stuck_message(text, *starts.last));
    }
    if (documents > text.size()) {
      throw YAML::ParserException(starts.last.value_or(YAML::Mark()), "too many documents");
    }
    previous = starts.last;
  }
}

}  // namespace

std::vector<YAML::Node> load_documents(const std::string& text) {
  check_documents_end(text);
  return YAML::LoadAll(text);
}

}  // namespace uc::config
