#include "config/yaml_documents.h"

#include <cstddef>
#include <optional>
#include <istream>
#include <streambuf>
#include <string_view>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

namespace uc::config {
namespace {

// Records the start of the last document and passes every event on (to nothing when
// inner is null).
class DocumentStarts final : public YAML::EventHandler {
 public:
  explicit DocumentStarts(YAML::EventHandler* inner) : inner_(inner) {}
  void OnDocumentStart(const YAML::Mark& mark) override {
    last = mark;
    if (inner_ != nullptr) inner_->OnDocumentStart(mark);
  }
  void OnDocumentEnd() override {
    if (inner_ != nullptr) inner_->OnDocumentEnd();
  }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (inner_ != nullptr) inner_->OnNull(mark, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (inner_ != nullptr) inner_->OnAlias(mark, anchor);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (inner_ != nullptr) inner_->OnScalar(mark, tag, anchor, value);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value style) override {
    if (inner_ != nullptr) inner_->OnSequenceStart(mark, tag, anchor, style);
  }
  void OnSequenceEnd() override {
    if (inner_ != nullptr) inner_->OnSequenceEnd();
  }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value style) override {
    if (inner_ != nullptr) inner_->OnMapStart(mark, tag, anchor, style);
  }
  void OnMapEnd() override {
    if (inner_ != nullptr) inner_->OnMapEnd();
  }

  std::optional<YAML::Mark> last;

 private:
  YAML::EventHandler* inner_;
};

std::string stuck_message(std::string_view text, const YAML::Mark& at) {
  if (at.pos >= 0 && static_cast<std::size_t>(at.pos) < text.size()) {
    const char c = text[static_cast<std::size_t>(at.pos)];
    if (c == ',') return "unexpected ','; a comma separates entries only inside [ ] or { }";
    if (c > ' ' && c < 0x7f) return std::string("unexpected '") + c + "'";
  }
  return "unexpected token";
}

// Walks the documents as LoadAll would, events to inner, and throws where LoadAll would loop.
// An input stream over text, without copying it.
class ViewBuffer final : public std::streambuf {
 public:
  explicit ViewBuffer(std::string_view text) {
    char* begin = const_cast<char*>(text.data());  // NOLINT(cppcoreguidelines-pro-type-const-cast): get area is only read
    setg(begin, begin, begin + text.size());
  }
};

void walk_documents(std::string_view text, YAML::EventHandler* inner) {
  ViewBuffer buffer(text);
  std::istream in(&buffer);
  YAML::Parser parser(in);
  DocumentStarts starts(inner);
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
  walk_documents(text, nullptr);
  return YAML::LoadAll(text);
}

void parse_events(std::string_view text, YAML::EventHandler& handler) { walk_documents(text, &handler); }

}  // namespace uc::config
