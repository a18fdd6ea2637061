// YAML::LoadAll without yaml-cpp 0.7's endless loop. The loader reads files through
// parse_events() (yaml_tree.h builds its tree in that one walk); load_documents() is the
// same guard in front of LoadAll, for the benchmark that compares the two.
//
// yaml-cpp 0.7 (Debian 12) never returns from LoadAll on text such as `,a:` newline `"b`
// or `- a` newline `,` (upstream jbeder/yaml-cpp#1040, fixed after 0.8 by #1319): when a
// document starts at a token no node can start with (a `,` in block context), its
// document parser reports a null node *without consuming that token*, and
// Parser::HandleNextDocument returns true; LoadAll then collects null documents
// forever, allocating as it goes. Nothing in the parser's state changes between two
// such documents, so once one document consumed no token the next one is identical.
//
// load_documents() first walks the documents with yaml-cpp's own Parser and a
// handler that only records where each document starts. A document that consumed at
// least one token moves the next document's start: every token a document can consume
// first either has a width (a scalar, `---`, a tag, an anchor, an alias, `[`, `{`, `-`,
// `?`, `:`) or is a zero-width block start that is always followed by one that has. So
// two documents in a row that start at the same position are exactly the loop, and
// the walk stops there with a ParserException at that position. Valid YAML never
// does this (every document of it consumes a token), so nothing valid is refused.
// Only when the walk ends normally is the text given to YAML::LoadAll, which then
// sees the same tokens and terminates; its other errors are thrown unchanged.
// parse_events() is the same walk with a handler of the caller's (yaml_tree.h builds
// its tree from it, in that one pass).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace uc::config {

// Every document of `text`. Throws YAML::Exception (ParserException for syntax,
// DeepRecursion for nesting) like YAML::LoadAll, never loops.
std::vector<YAML::Node> load_documents(const std::string& text);

// Every event of every document of `text`, in order, to handler. Throws as
// load_documents() does, where LoadAll would loop, and whatever handler throws.
// Reads text where it is (no copy).
void parse_events(std::string_view text, YAML::EventHandler& handler);

}  // namespace uc::config
