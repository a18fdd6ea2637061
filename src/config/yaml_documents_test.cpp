// load_documents: the inputs on which yaml-cpp 0.7's LoadAll never returns give a
// ParserException at the stray token, and valid streams load exactly as LoadAll does.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/yaml_documents.h"

namespace uc::config {
namespace {

struct Stuck {
  std::string text;
  int line;    // 0-based, as in YAML::Mark
  int column;
};

TEST(LoadDocuments, StrayCommaInBlockContextIsAnErrorNotALoop) {
  const std::vector<Stuck> cases = {
      {",a:\n\"b", 0, 0},        // the 7 bytes libFuzzer found
      {",", 0, 0},               // jbeder/yaml-cpp#1040
      {"\n,\n", 1, 0},           // the example of jbeder/yaml-cpp#1319
      {"- a\n,", 1, 0},          // after a whole block sequence
      {"[a],", 0, 3},            // after a whole flow sequence
      {"!t ,", 0, 3},            // after a tag: the first document takes the tag
      {"&x ,", 0, 3},            // after an anchor
      {"a: b\n---\n,\n", 2, 0},  // in a later document
  };
  for (const Stuck& c : cases) {
    SCOPED_TRACE(c.text);
    try {
      (void)load_documents(c.text);
      ADD_FAILURE() << "no exception";
    } catch (const YAML::ParserException& e) {
      EXPECT_EQ(e.mark.line, c.line);
      EXPECT_EQ(e.mark.column, c.column);
      EXPECT_EQ(e.msg, "unexpected ','; a comma separates entries only inside [ ] or { }");
    }
  }
}

TEST(LoadDocuments, ValidStreamsLoadAsLoadAllDoes) {
  const std::vector<std::string> streams = {
      "",
      "# comment only\n",
      "a: b\n",
      "---\n",
      "---\n---\n",
      "---\n---\n---\n",
      "...\n",
      "...\n---\na: b\n",
      "a\n---\nb\n...\n",
      "--- !t\n--- &x a\n--- b\n",
      "--- [a, b]\n--- {c: d}\n",
      "- a\n- b\n",
      "? a\n: b\n",
      ": v\n",
      "%YAML 1.2\n---\na\n...\n%YAML 1.2\n---\nb\n",
      "a: [1, 2, {b: c}]\nd: \"e, f\"\n",
      "--- *undefined\n",    // an error in both
      "a: {b: c\n",          // an error in both
  };
  for (const std::string& s : streams) {
    SCOPED_TRACE(s);
    std::vector<YAML::Node> expected;
    std::string expected_error;
    try {
      expected = YAML::LoadAll(s);
    } catch (const YAML::Exception& e) {
      expected_error = e.what();
    }
    if (!expected_error.empty()) {  // the same error, from the walk or from LoadAll
      try {
        (void)load_documents(s);
        ADD_FAILURE() << "no exception; LoadAll threw " << expected_error;
      } catch (const YAML::Exception& e) {
        EXPECT_EQ(std::string(e.what()), expected_error);
      }
      continue;
    }
    const std::vector<YAML::Node> got = load_documents(s);
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(YAML::Dump(got[i]), YAML::Dump(expected[i]));
      EXPECT_EQ(got[i].Mark().pos, expected[i].Mark().pos);
    }
  }
}

TEST(LoadDocuments, OtherSyntaxErrorsAreYamlCppsOwn) {
  try {
    (void)load_documents("a: {b: c\n");
    ADD_FAILURE() << "no exception";
  } catch (const YAML::ParserException& e) {
    EXPECT_EQ(e.msg, "end of map flow not found");
  }
}

}  // namespace
}  // namespace uc::config
