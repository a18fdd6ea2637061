#include "config/yaml_tree.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <limits>
#include <optional>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>

#include "config/yaml_documents.h"

namespace uc::config {

// Builds a YamlTree from parser events. A container is appended to its parent's
// pending children when it starts (so children stay in file order) and gets its own
// children, copied into the tree's child array, when it ends.
class YamlTreeBuilder final : public YAML::EventHandler {
 public:
  explicit YamlTreeBuilder(YamlTree& tree) : tree_(tree) {}

  void OnDocumentStart(const YAML::Mark& /*mark*/) override {
    root_.reset();
    anchors_.clear();
  }
  void OnDocumentEnd() override {
    if (!root_) root_ = add(YAML::Mark(), YamlTree::Kind::kNull, {}, false);
    tree_.roots_.push_back(*root_);
  }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const std::uint32_t i = add(mark, YamlTree::Kind::kNull, {}, false);
    name(anchor, i);
    attach(i);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    const std::uint32_t i = add(mark, YamlTree::Kind::kScalar, value, tag == "?");
    name(anchor, i);
    attach(i);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (anchor >= anchors_.size() || !anchors_[anchor]) throw YAML::ParserException(mark, "unknown anchor");
    const std::uint32_t i = *anchors_[anchor];
    if (std::find(open_.begin(), open_.end(), i) != open_.end()) {
      throw YAML::ParserException(mark, "an alias refers to a node that contains it");
    }
    attach(i);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    open(mark, anchor, YamlTree::Kind::kSequence);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    open(mark, anchor, YamlTree::Kind::kMap);
  }
  void OnMapEnd() override { close(); }

 private:
  std::uint32_t add(const YAML::Mark& mark, YamlTree::Kind kind, std::string_view text, bool plain) {
    if (tree_.nodes_.size() >= std::numeric_limits<std::uint32_t>::max() ||
        tree_.text_.size() + text.size() >= std::numeric_limits<std::uint32_t>::max()) {
      throw YAML::ParserException(mark, "the document is too large");
    }
    YamlTree::Node n;
    n.line = mark.line;
    n.column = mark.column;
    n.kind = kind;
    n.plain = plain;
    if (kind == YamlTree::Kind::kScalar) {
      n.begin = static_cast<std::uint32_t>(tree_.text_.size());
      n.count = static_cast<std::uint32_t>(text.size());
      tree_.text_ += text;
    }
    tree_.nodes_.push_back(n);
    return static_cast<std::uint32_t>(tree_.nodes_.size() - 1);
  }

  void name(YAML::anchor_t anchor, std::uint32_t i) {
    if (anchor == YAML::NullAnchor) return;
    if (anchor >= anchors_.size()) anchors_.resize(anchor + 1);
    anchors_[anchor] = i;
  }

  // A new node goes to the innermost open container, or is the document's root.
  void attach(std::uint32_t i) {
    if (open_.empty()) {
      if (!root_) root_ = i;
      return;
    }
    pending_.push_back(i);
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor, YamlTree::Kind kind) {
    const std::uint32_t i = add(mark, kind, {}, false);
    name(anchor, i);
    attach(i);
    open_.push_back(i);
    starts_.push_back(pending_.size());
  }

  void close() {
    const std::uint32_t i = open_.back();
    const std::size_t start = starts_.back();
    open_.pop_back();
    starts_.pop_back();
    YamlTree::Node& n = tree_.nodes_[i];
    n.begin = static_cast<std::uint32_t>(tree_.children_.size());
    n.count = static_cast<std::uint32_t>(pending_.size() - start);
    tree_.children_.insert(tree_.children_.end(), pending_.begin() + static_cast<std::ptrdiff_t>(start),
                           pending_.end());
    pending_.resize(start);
  }

  YamlTree& tree_;
  std::optional<std::uint32_t> root_;
  std::vector<std::optional<std::uint32_t>> anchors_;  // by yaml-cpp's anchor number
  std::vector<std::uint32_t> open_;                    // containers not ended yet, outermost first
  std::vector<std::size_t> starts_;                    // where each one's children begin in pending_
  std::vector<std::uint32_t> pending_;                 // children of the open containers
};

std::shared_ptr<const YamlTree> YamlTree::parse(std::string_view text) {
  auto tree = std::make_shared<YamlTree>();
  YamlTreeBuilder builder(*tree);
  parse_events(text, builder);
  tree->nodes_.shrink_to_fit();
  tree->children_.shrink_to_fit();
  tree->text_.shrink_to_fit();
  return tree;
}

std::size_t YamlTree::memory_bytes() const {
  return nodes_.capacity() * sizeof(Node) + children_.capacity() * sizeof(std::uint32_t) + text_.capacity() +
         roots_.capacity() * sizeof(std::uint32_t);
}

bool YamlNode::is_null() const { return tree_ == nullptr || tree_->nodes_[index_].kind == YamlTree::Kind::kNull; }
bool YamlNode::is_scalar() const { return tree_ != nullptr && tree_->nodes_[index_].kind == YamlTree::Kind::kScalar; }
bool YamlNode::is_map() const { return tree_ != nullptr && tree_->nodes_[index_].kind == YamlTree::Kind::kMap; }
bool YamlNode::is_sequence() const {
  return tree_ != nullptr && tree_->nodes_[index_].kind == YamlTree::Kind::kSequence;
}

YAML::Mark YamlNode::mark() const {
  if (tree_ == nullptr) return YAML::Mark::null_mark();
  YAML::Mark m;
  m.line = tree_->nodes_[index_].line;
  m.column = tree_->nodes_[index_].column;
  return m;
}

std::string_view YamlNode::scalar() const {
  if (!is_scalar()) return {};
  const YamlTree::Node& n = tree_->nodes_[index_];
  return std::string_view(tree_->text_).substr(n.begin, n.count);
}

bool YamlNode::is_plain() const { return is_scalar() && tree_->nodes_[index_].plain; }

std::size_t YamlNode::size() const {
  if (is_sequence()) return tree_->nodes_[index_].count;
  if (is_map()) return tree_->nodes_[index_].count / 2;
  return 0;
}

YamlNode YamlNode::item(std::size_t i) const {
  if (!is_sequence() || i >= size()) return {};
  return {tree_, tree_->children_[tree_->nodes_[index_].begin + i]};
}

YamlNode YamlNode::key(std::size_t i) const {
  if (!is_map() || i >= size()) return {};
  return {tree_, tree_->children_[tree_->nodes_[index_].begin + 2 * i]};
}

YamlNode YamlNode::value(std::size_t i) const {
  if (!is_map() || i >= size()) return {};
  return {tree_, tree_->children_[tree_->nodes_[index_].begin + 2 * i + 1]};
}

namespace {

void emit_node(YAML::Emitter& out, const YamlNode& node) {
  if (node.is_map()) {
    out << YAML::BeginMap;
    for (std::size_t i = 0; i < node.size(); ++i) {
      out << YAML::Key;
      emit_node(out, node.key(i));
      out << YAML::Value;
      emit_node(out, node.value(i));
    }
    out << YAML::EndMap;
  } else if (node.is_sequence()) {
    out << YAML::BeginSeq;
    for (std::size_t i = 0; i < node.size(); ++i) emit_node(out, node.item(i));
    out << YAML::EndSeq;
  } else if (node.is_scalar() && !node.is_plain()) {
    out << YAML::DoubleQuoted << std::string(node.scalar());
  } else if (node.is_scalar() && !node.scalar().empty()) {
    out << std::string(node.scalar());
  } else {
    out << YAML::Null;
  }
}

}  // namespace

std::string emit_yaml(const YamlNode& node) {
  YAML::Emitter out;
  emit_node(out, node);
  return out.c_str();
}

}  // namespace uc::config
