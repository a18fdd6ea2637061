#include "app/managed_sources.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/registry.h"

namespace uc::app {
namespace {

namespace fs = std::filesystem;

class ManagedSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("uc_managed_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    config_ = (dir_ / "config.yaml").string();
    write(config_,
          "connector: {name: t, data_dir: " + (dir_ / "data").string() + "}\n"
          "sources:\n"
          "  - {name: a, protocol: synthetic, equipment: e, tags: [{name: n, generator: counter}]}\n"
          "  - {name: b, protocol: synthetic, equipment: e, tags: [{name: n, generator: counter}]}\n"
          "sinks:\n  stdout: {enabled: true}\n");
    register_protocols(loader_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

  // The configuration file with the managed file applied: the names of its sources in order.
  std::vector<std::string> loaded_names(std::vector<config::ConfigError>* errors = nullptr,
                                        std::vector<config::ConfigError>* notes = nullptr) {
    auto r = loader_.load_file(config_);
    EXPECT_TRUE(r.ok());
    std::vector<config::ConfigError> e, n;
    ManagedSources::apply(ManagedSources::path_for(config_), loader_, nullptr, *r.config, e, n);
    if (errors) *errors = e;
    if (notes) *notes = n;
    std::vector<std::string> names;
    for (const auto& s : r.config->sources) names.push_back(s.name + ":" + s.equipment);
    return names;
  }

  config::SourceConfig entry(const std::string& name, const std::string& equipment) {
    auto r = loader_.load_source("{name: " + name + ", protocol: synthetic, equipment: " + equipment +
                                     ", tags: [{name: n, generator: counter}]}",
                                 "body");
    EXPECT_TRUE(r.ok());
    return *r.source;
  }

  fs::path dir_;
  std::string config_;
  config::Loader loader_;
};

TEST_F(ManagedSourcesTest, ThePathIsBesideTheConfigurationFile) {
  EXPECT_EQ(ManagedSources::path_for("/etc/uc/config.yaml"), "/etc/uc/config.api.yaml");
  EXPECT_EQ(ManagedSources::path_for("plant.yml"), "plant.api.yaml");
  EXPECT_EQ(ManagedSources::path_for("conf"), "conf.api.yaml");
}

TEST_F(ManagedSourcesTest, WithoutTheFileTheConfigurationIsTheFile) {
  EXPECT_EQ(loaded_names(), (std::vector<std::string>{"a:e", "b:e"}));
}

TEST_F(ManagedSourcesTest, ChangesAreSavedAndAppliedInPlaceAppendedAndRemoved) {
  ManagedSources m(config_);
  ASSERT_TRUE(m.load().is_ok());
  ASSERT_TRUE(m.upsert(entry("c", "added")).is_ok());
  ASSERT_TRUE(m.upsert(entry("a", "changed")).is_ok());
  ASSERT_TRUE(m.remove("b").is_ok());
  ASSERT_TRUE(m.upsert(entry("d", "added")).is_ok());
  ASSERT_TRUE(m.remove("d").is_ok());  // added then removed: nothing to remember
  EXPECT_EQ(loaded_names(), (std::vector<std::string>{"a:changed", "c:added"}));
  struct stat st {};
  ASSERT_EQ(::stat(m.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The user's file is untouched.
  std::ifstream in(config_);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("name: b"), std::string::npos);

  // A second saver (the next start) reads what the first wrote and goes on from there.
  ManagedSources again(config_);
  ASSERT_TRUE(again.load().is_ok());
  EXPECT_EQ(again.size(), 3u);
  ASSERT_TRUE(again.upsert(entry("b", "back")).is_ok());
  EXPECT_EQ(loaded_names(), (std::vector<std::string>{"a:changed", "b:back", "c:added"}));
}

TEST_F(ManagedSourcesTest, ARemovalOfASourceTheFileNoLongerHasIsANote) {
  write(ManagedSources::path_for(config_), "sources: []\nremoved_sources: [gone, b]\n");
  std::vector<config::ConfigError> errors, notes;
  EXPECT_EQ(loaded_names(&errors, &notes), (std::vector<std::string>{"a:e"}));
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].message.find("\"gone\""), std::string::npos);
}

TEST_F(ManagedSourcesTest, ABrokenFileIsAnErrorThatNamesItAndTheEntry) {
  const std::string managed = ManagedSources::path_for(config_);
  struct Case {
    std::string text;
    std::string expect;  // in the error's text
  };
  const Case cases[] = {
      {"sources: [\n", "not valid YAML"},
      {"- just a list\n", "must be a map"},
      {"sources: {a: 1}\n", "must be a list of source entries"},
      {"colour: red\n", "unknown key"},
      {"removed_sources: [[x]]\n", "must be a source name"},
      {"sources:\n  - {name: c, protocol: synthetic, equipment: e, interval_ms: often, tags: [{name: n, generator: counter}]}\n",
       "sources[0].interval_ms"},
      {"sources:\n  - {name: c, protocol: nope}\n", "sources[0]"},
  };
  for (const auto& c : cases) {
    write(managed, c.text);
    std::vector<config::ConfigError> errors;
    const auto names = loaded_names(&errors);
    ASSERT_FALSE(errors.empty()) << c.text;
    EXPECT_EQ(errors[0].file, managed);
    EXPECT_NE(errors[0].to_string().find(c.expect), std::string::npos) << errors[0].to_string();
    EXPECT_EQ(names, (std::vector<std::string>{"a:e", "b:e"})) << "nothing applied on error";
  }
}

TEST_F(ManagedSourcesTest, AnOversizedFileIsRefusedUnread) {
  const std::string managed = ManagedSources::path_for(config_);
  write(managed, "sources: []\n# " + std::string(config::Loader::kMaxFileBytes, 'x') + "\n");
  std::vector<config::ConfigError> errors;
  loaded_names(&errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("larger than"), std::string::npos);
}

}  // namespace
}  // namespace uc::app
