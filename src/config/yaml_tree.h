// The YAML documents of a config file as a compact, read-only tree.
//
// Why not yaml-cpp's own node tree: it costs about 400 bytes per node (a node, a node
// reference, node data with two strings, a set of dependencies, shared pointers and an
// entry in the memory holder), so a 15 MB file of 214,049 sources took more than 1 GB
// (issue 20, item 5). Here a node is 20 bytes in one array, a map or list refers to its
// children by index in a second array, and every scalar's text sits in one string:
// about a tenth of the memory, built in one pass over yaml-cpp's parser events, which
// also does what load_documents() does (yaml_documents.h: stops where yaml-cpp 0.7's
// LoadAll would loop).
//
// What it keeps: per node its kind, its 0-based mark (line, column; pos is not kept),
// whether a scalar was plain (tag "?": unquoted, untagged) and its text. yaml-cpp reads
// `~`, `null`, `Null`, `NULL` and an empty plain value as null. An alias is the node of
// its anchor, shared (no copy, so alias bombs cost nothing); an alias to a node that
// contains it is an error (it would make a cycle). Duplicate keys stay, in file order
// (Reader::check_keys reports them).
//
// A tree is immutable once parsed: any thread may read it. YamlNode is a cheap handle
// (tree pointer + index) that does not own the tree; whoever keeps nodes beyond a load
// keeps the tree's shared_ptr too (SourceConfig::document_tree).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/mark.h>

namespace uc::config {

class YamlTree;

class YamlNode {
 public:
  YamlNode() = default;  // undefined: what a lookup of an absent key gives
  YamlNode(const YamlTree* tree, std::uint32_t index) : tree_(tree), index_(index) {}

  bool is_defined() const { return tree_ != nullptr; }
  bool is_null() const;  // also when undefined
  bool is_scalar() const;
  bool is_map() const;
  bool is_sequence() const;
  // 0-based line and column (pos 0); null_mark() when undefined.
  YAML::Mark mark() const;
  // The text of a scalar ("" for anything else).
  std::string_view scalar() const;
  // A scalar written without quotes or a tag (YAML's core schema may read it as a
  // number, a boolean or null).
  bool is_plain() const;
  // Items of a list, entries of a map, 0 otherwise.
  std::size_t size() const;
  YamlNode item(std::size_t i) const;   // list item i
  YamlNode key(std::size_t i) const;    // map entry i's key
  YamlNode value(std::size_t i) const;  // map entry i's value
  std::uint32_t index() const { return index_; }

 private:
  const YamlTree* tree_ = nullptr;
  std::uint32_t index_ = 0;
};

class YamlTree {
 public:
  // Every document of text. Throws YAML::Exception (ParserException for syntax and the
  // cases above, DeepRecursion for nesting) as YAML::LoadAll does, and never loops.
  static std::shared_ptr<const YamlTree> parse(std::string_view text);

  std::size_t documents() const { return roots_.size(); }
  YamlNode document(std::size_t i) const { return {this, roots_.at(i)}; }
  YamlNode node(std::uint32_t index) const { return {this, index}; }
  // Bytes held by the tree (nodes, child indexes, text), for tests and benchmarks.
  std::size_t memory_bytes() const;

 private:
  friend class YamlNode;
  friend class YamlTreeBuilder;
  enum class Kind : std::uint8_t { kNull, kScalar, kSequence, kMap };
  struct Node {
    std::int32_t line = 0;
    std::int32_t column = 0;
    std::uint32_t begin = 0;  // scalar: offset in text_; list or map: first index in children_
    std::uint32_t count = 0;  // scalar: length; list: items; map: 2 x entries (key, value, ...)
    Kind kind = Kind::kNull;
    bool plain = false;
  };

  std::vector<Node> nodes_;
  std::vector<std::uint32_t> children_;
  std::string text_;
  std::vector<std::uint32_t> roots_;
};

// The node as YAML text (block style) that reads back as the same node: a scalar that
// was quoted in the file is quoted, a plain one is not; null is written as `~`. What the
// API's managed file stores of a source (app/managed_sources.h), and how two entries are
// compared.
std::string emit_yaml(const YamlNode& node);

}  // namespace uc::config
