// YamlTree: the same documents as yaml-cpp's LoadAll (kinds, text, marks, plain or not),
// the same errors, aliases shared rather than copied, and a fraction of the memory.
#include "config/yaml_tree.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace uc::config {
namespace {

void expect_same(const YAML::Node& y, const YamlNode& t, const std::string& where) {
  SCOPED_TRACE(where);
  ASSERT_TRUE(t.is_defined());
  ASSERT_EQ(y.IsNull(), t.is_null());
  ASSERT_EQ(y.IsScalar(), t.is_scalar());
  ASSERT_EQ(y.IsSequence(), t.is_sequence());
  ASSERT_EQ(y.IsMap(), t.is_map());
  EXPECT_EQ(y.Mark().line, t.mark().line);
  EXPECT_EQ(y.Mark().column, t.mark().column);
  if (y.IsScalar()) {
    EXPECT_EQ(y.Scalar(), t.scalar());
    EXPECT_EQ(y.Tag() == "?", t.is_plain());
  }
  if (y.IsSequence()) {
    ASSERT_EQ(y.size(), t.size());
    for (std::size_t i = 0; i < y.size(); ++i) expect_same(y[i], t.item(i), where + "[" + std::to_string(i) + "]");
  }
  if (y.IsMap()) {
    ASSERT_EQ(y.size(), t.size());
    std::size_t i = 0;
    for (const auto& kv : y) {
      expect_same(kv.first, t.key(i), where + ".key" + std::to_string(i));
      expect_same(kv.second, t.value(i), where + ".value" + std::to_string(i));
      ++i;
    }
  }
}

TEST(YamlTree, ReadsWhatLoadAllReads) {
  const std::vector<std::string> streams = {
      "",                             // no document
      "---\n---\n",                   // two null documents
      "--- [a, b]\n--- {c: d}\n",      // flow collections as roots
      "--- !t\n--- &x a\n--- b\n",     // a tag, an anchor
      "? a\n: b\n",                    // an explicit key
      "a: [1, 2, {b: c}]\nd: \"e, f\"\n",
      "a: ~\nb:\nc: null\nd: 'null'\ne: \"\"\nf: !!str 5\ng: |\n  text\n  more\nh: >\n  folded\n",
      "a: 1\na: 2\n",  // duplicate keys stay, in order
      "sources:\n  - {name: s1, protocol: synthetic, tags: [{name: t, unit: degC}]}\n"
      "  - name: s2\n    protocol: modbus\n    registers:\n      - {name: r, address: 0x10}\n",
      "base: &b {x: 1, y: [2, 3]}\nuse: *b\nlist: [*b, *b]\n",
  };
  for (const std::string& s : streams) {
    SCOPED_TRACE(s);
    const std::vector<YAML::Node> expected = YAML::LoadAll(s);
    const auto tree = YamlTree::parse(s);
    ASSERT_EQ(tree->documents(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) expect_same(expected[i], tree->document(i), "doc");
  }
}

TEST(YamlTree, ThrowsWhatLoadAllThrowsAndStopsWhereItWouldLoop) {
  for (const std::string s : {"--- *undefined\n", "a: {b: c\n", "a: [b\n", "a: b\n c: d\n"}) {
    SCOPED_TRACE(s);
    std::string expected;
    try {
      (void)YAML::LoadAll(s);
    } catch (const YAML::Exception& e) {
      expected = e.what();
    }
    ASSERT_FALSE(expected.empty());
    try {
      (void)YamlTree::parse(s);
      ADD_FAILURE() << "no exception";
    } catch (const YAML::Exception& e) {
      EXPECT_EQ(std::string(e.what()), expected);
    }
  }
  try {
    (void)YamlTree::parse(",a:\n\"b");  // LoadAll never returns on this (yaml_documents.h)
    ADD_FAILURE() << "no exception";
  } catch (const YAML::ParserException& e) {
    EXPECT_EQ(e.msg, "unexpected ','; a comma separates entries only inside [ ] or { }");
  }
}

TEST(YamlTree, AnAliasIsItsAnchorsNodeNotACopy) {
  const auto tree = YamlTree::parse("a: &x {b: c}\nd: *x\n");
  const YamlNode root = tree->document(0);
  EXPECT_EQ(root.value(0).index(), root.value(1).index());
  // Nine levels of nine aliases: 9^9 nodes if copied, 81 in the tree.
  std::string bomb = "l0: &l0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 9; ++i) {
    const std::string prev = "*l" + std::to_string(i - 1);
    bomb += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [" + prev;
    for (int k = 1; k < 9; ++k) bomb += ", " + prev;
    bomb += "]\n";
  }
  const auto big = YamlTree::parse(bomb);
  EXPECT_LT(big->memory_bytes(), 4096U);
  YamlNode deepest = big->document(0).value(9);
  for (int i = 0; i < 9; ++i) deepest = deepest.item(8);
  EXPECT_EQ(deepest.item(0).scalar(), "x");
}

TEST(YamlTree, AnAliasInsideItsOwnAnchorIsAnError) {
  try {
    (void)YamlTree::parse("a: &x [b, *x]\n");
    ADD_FAILURE() << "no exception";
  } catch (const YAML::ParserException& e) {
    EXPECT_EQ(e.msg, "an alias refers to a node that contains it");
    EXPECT_EQ(e.mark.line, 0);
    EXPECT_EQ(e.mark.column, 10);
  }
}

TEST(YamlTree, CostsAFewHundredBytesPerSourceEntry) {
  // The shape of bench/config_scale.py's files: one flow map of five keys per source.
  std::string text = "sources:\n";
  for (int i = 0; i < 10000; ++i) {
    text += "  - {name: s" + std::to_string(i) + ", protocol: synthetic, equipment: Pump, tag_count: 3}\n";
  }
  const auto tree = YamlTree::parse(text);
  ASSERT_EQ(tree->document(0).value(0).size(), 10000U);
  EXPECT_LT(tree->memory_bytes() / 10000, 400U);  // yaml-cpp's own tree: about 5 KB each
}

TEST(YamlTree, AbsentNodesAreUndefinedAndNull) {
  const auto tree = YamlTree::parse("a: [1]\n");
  const YamlNode root = tree->document(0);
  EXPECT_FALSE(root.value(5).is_defined());
  EXPECT_TRUE(root.value(5).is_null());
  EXPECT_FALSE(root.item(0).is_defined());  // a map has no items
  EXPECT_EQ(root.value(0).item(0).scalar(), "1");
  EXPECT_EQ(root.value(0).size(), 1U);
  EXPECT_EQ(root.scalar(), "");
}

}  // namespace
}  // namespace uc::config
