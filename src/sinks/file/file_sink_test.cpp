#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <nlohmann/json.hpp>

#include "sinks/file/file_sink.h"

namespace uc::sinks::file {
namespace {

namespace fs = std::filesystem;

class FileSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("uc_file_sink_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<Record> records(int n, int first = 0) {
    auto tag = std::make_shared<TagInfo>();
    tag->tag_path = "a/b/c";
    tag->source_name = "src";
    std::vector<Record> v;
    for (int i = 0; i < n; ++i) {
      Record r;
      r.tag = tag;
      r.value_type = ValueKind::kInt;
      r.value_num = first + i;
      r.value_str = std::to_string(first + i);
      v.push_back(std::move(r));
    }
    return v;
  }

  // All lines of all files of the target, files in name order.
  std::vector<nlohmann::json> read_all(const std::string& target) {  // target may be "sub/target"
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir_ / target)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::vector<nlohmann::json> out;
    for (const auto& f : files) {
      std::ifstream in(f);
      std::string line;
      while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }

  std::size_t file_count(const std::string& target) {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_ / target), fs::directory_iterator{}));
  }

  fs::path dir_;
  ManualClock clock_;
};

TEST_F(FileSinkTest, WritesJsonLinesUnderTargetDirectory) {
  FileSink sink({dir_.string(), "cat.schema.table", 0, std::chrono::seconds(0), true}, clock_);
  ASSERT_TRUE(sink.start().is_ok());
  ASSERT_TRUE(sink.write(records(3)).status.is_ok());
  ASSERT_TRUE(sink.write(records(2, 3)).status.is_ok());
  sink.stop();
  auto lines = read_all("cat.schema.table");
  ASSERT_EQ(lines.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(lines[static_cast<std::size_t>(i)]["value_str"], std::to_string(i));
  EXPECT_EQ(lines[0]["tag_path"], "a/b/c");
}

TEST_F(FileSinkTest, RotatesBySize) {
  FileSink sink({dir_.string(), "t", 700, std::chrono::seconds(0), false}, clock_);
  ASSERT_TRUE(sink.start().is_ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(sink.write(records(2, i * 2)).status.is_ok());
  sink.stop();
  EXPECT_GT(file_count("t"), 10u);  // more than 9 files: name order must still be write order
  for (const auto& e : fs::directory_iterator(dir_ / "t")) EXPECT_LE(fs::file_size(e.path()), 700u);
  auto lines = read_all("t");
  ASSERT_EQ(lines.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(lines[static_cast<std::size_t>(i)]["value_str"], std::to_string(i));
}

TEST_F(FileSinkTest, RotatesByTime) {
  FileSink sink({dir_.string(), "t", 0, std::chrono::seconds(60), false}, clock_);
  ASSERT_TRUE(sink.start().is_ok());
  ASSERT_TRUE(sink.write(records(1)).status.is_ok());
  clock_.advance_us(30'000'000);
  ASSERT_TRUE(sink.write(records(1, 1)).status.is_ok());
  EXPECT_EQ(file_count("t"), 1u);
  clock_.advance_us(31'000'000);
  ASSERT_TRUE(sink.write(records(1, 2)).status.is_ok());
  sink.stop();
  EXPECT_EQ(file_count("t"), 2u);
  EXPECT_EQ(read_all("t").size(), 3u);
}

TEST_F(FileSinkTest, OversizedRecordsAreRejectedAndTheRestWritten) {
  Options o{dir_.string(), "t", 0, std::chrono::seconds(0), false};
  o.max_record_bytes = 600;
  FileSink sink(o, clock_);
  ASSERT_TRUE(sink.start().is_ok());
  auto batch = records(3);
  batch[1].value_str.assign(1000, 'x');
  auto r = sink.write(batch);
  ASSERT_TRUE(r.status.is_ok());
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].index, 1u);
  EXPECT_NE(r.rejected[0].reason.find("over sinks.file.max_record_bytes (600)"), std::string::npos);
  sink.stop();
  auto lines = read_all("t");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1]["value_str"], "2");
}

TEST_F(FileSinkTest, RestartNeverOverwritesEarlierFiles) {
  for (int run = 0; run < 3; ++run) {
    FileSink sink({dir_.string(), "t", 0, std::chrono::seconds(0), false}, clock_);
    ASSERT_TRUE(sink.start().is_ok());
    ASSERT_TRUE(sink.write(records(1, run)).status.is_ok());
    sink.stop();
  }
  EXPECT_EQ(file_count("t"), 3u);
  EXPECT_EQ(read_all("t").size(), 3u);
}

// A kill in the middle of write() leaves half a line at the end of the file being
// written; a cut-back that failed can leave one in an older file. The next start cuts
// both, and keeps every whole line.
TEST_F(FileSinkTest, RestartCutsTornLastLinesOfEarlierFilesAndKeepsEveryWholeLine) {
  {
    FileSink sink({dir_.string(), "t", 700, std::chrono::seconds(0), false}, clock_);
    ASSERT_TRUE(sink.start().is_ok());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(sink.write(records(2, i * 2)).status.is_ok());
    sink.stop();
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir_ / "t")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 3u);
  std::ofstream(files.front(), std::ios::app) << R"({"tag_path":"a/b/c","value_str":"2)";  // an older file
  std::ofstream(files.back(), std::ios::app) << R"({"tag_path":"a/b)";                     // the newest one

  FileSink sink({dir_.string(), "t", 700, std::chrono::seconds(0), false}, clock_);
  ASSERT_TRUE(sink.start().is_ok());
  ASSERT_TRUE(sink.write(records(2, 20)).status.is_ok());
  sink.stop();
  auto lines = read_all("t");  // throws on a line that does not parse
  ASSERT_EQ(lines.size(), 22u);
  for (int i = 0; i < 22; ++i) EXPECT_EQ(lines[static_cast<std::size_t>(i)]["value_str"], std::to_string(i));
  for (const auto& f : files) {
    ASSERT_GT(fs::file_size(f), 0u);
    std::ifstream in(f, std::ios::binary);
    in.seekg(-1, std::ios::end);
    char last = 0;
    ASSERT_TRUE(in.get(last));
    EXPECT_EQ(last, '\n') << f;
  }
}

TEST_F(FileSinkTest, HostileTargetNameStaysInsideDirectory) {
  FileSink sink({dir_.string(), "../../etc/x", 0, std::chrono::seconds(0), false}, clock_);
  ASSERT_TRUE(sink.start().is_ok());
  ASSERT_TRUE(sink.write(records(1)).status.is_ok());
  sink.stop();
  EXPECT_TRUE(fs::exists(dir_ / ".._.._etc_x"));
}

TEST_F(FileSinkTest, UnusableDirectoryAnswersRetryUntilItIsFixed) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "plainfile") << "x";  // a file where the directory should be
  FileSink sink({(dir_ / "plainfile").string(), "t", 0, std::chrono::seconds(0), false}, clock_);
  ASSERT_TRUE(sink.start().is_ok());  // not fatal: the sink is "down"
  auto r = sink.write(records(2));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status.message().find("cannot create"), std::string::npos) << r.status.to_string();
  EXPECT_TRUE(r.status.is_retryable());
  fs::remove(dir_ / "plainfile");  // the disk comes back
  ASSERT_TRUE(sink.write(records(2)).status.is_ok());
  sink.stop();
  EXPECT_EQ(read_all("plainfile/t").size(), 2u);
}

}  // namespace
}  // namespace uc::sinks::file
