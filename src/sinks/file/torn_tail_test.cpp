#include "sinks/file/torn_tail.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace uc::sinks::file {
namespace {

namespace fs = std::filesystem;

class TornTailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("uc_torn_tail_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string put(const std::string& name, const std::string& text) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  static std::string read(const std::string& p) {
    std::string text(fs::file_size(p), '\0');
    std::ifstream in(p, std::ios::binary);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    return text;
  }

  fs::path dir_;
};

TEST_F(TornTailTest, CutsTheBytesAfterTheLastNewline) {
  const std::string p = put("f.jsonl", "{\"a\":1}\n{\"a\":2}\n{\"a\":");
  auto cut = cut_torn_tail(p);
  ASSERT_TRUE(cut.is_ok()) << cut.status().to_string();
  EXPECT_EQ(*cut, 5u);
  EXPECT_EQ(read(p), "{\"a\":1}\n{\"a\":2}\n");
}

TEST_F(TornTailTest, LeavesSoundAndEmptyFilesAlone) {
  const std::string sound = put("sound.jsonl", "{\"a\":1}\n{\"a\":2}\n");
  const std::string empty = put("empty.jsonl", "");
  ASSERT_TRUE(cut_torn_tail(sound).is_ok());
  EXPECT_EQ(*cut_torn_tail(sound), 0u);
  EXPECT_EQ(read(sound), "{\"a\":1}\n{\"a\":2}\n");
  EXPECT_EQ(*cut_torn_tail(empty), 0u);
  EXPECT_EQ(fs::file_size(empty), 0u);
}

TEST_F(TornTailTest, AFileOfOnlyATornLineBecomesEmpty) {
  const std::string torn = "{\"tag_path\":\"a/b\",\"val";
  const std::string p = put("f.jsonl", torn);
  EXPECT_EQ(*cut_torn_tail(p), torn.size());
  EXPECT_EQ(fs::file_size(p), 0u);
}

TEST_F(TornTailTest, FindsTheLastNewlineFarBehindTheEnd) {
  // The torn line spans several of the backward reads (64 KiB each), as a large
  // record written with a large batch can.
  const std::string whole = "{\"a\":1}\n" + std::string(70'000, 'x') + "\n";
  const std::string torn = "{\"v\":\"" + std::string(200'000, 'y');
  const std::string p = put("f.jsonl", whole + torn);
  EXPECT_EQ(*cut_torn_tail(p), torn.size());
  EXPECT_EQ(read(p), whole);
}

TEST_F(TornTailTest, AMissingFileIsAnError) {
  auto cut = cut_torn_tail((dir_ / "absent.jsonl").string());
  ASSERT_FALSE(cut.is_ok());
  EXPECT_NE(cut.status().message().find("absent.jsonl"), std::string::npos) << cut.status().to_string();
}

TEST_F(TornTailTest, RepairsEveryMatchingFileOfADirectoryAndNothingElse) {
  const std::string older = put("records-1.jsonl", "{\"a\":1}\n{\"a\":");
  const std::string sound = put("records-2.jsonl", "{\"a\":3}\n");
  const std::string newest = put("records-3.jsonl", "{\"a\":4}\n{");
  const std::string other = put("notes.txt", "not a record\npartial");
  const fs::path outside = dir_ / "outside";
  fs::create_directories(outside);
  std::ofstream(outside / "target.jsonl") << "line\ntorn";
  fs::create_symlink(outside / "target.jsonl", dir_ / "records-4.jsonl");

  const TailRepair r = cut_torn_tails(dir_.string(), "records-", ".jsonl");
  EXPECT_TRUE(r.failures.empty());
  EXPECT_EQ(r.files_cut, 2u);
  EXPECT_EQ(r.bytes_cut, 6u);
  EXPECT_EQ(read(older), "{\"a\":1}\n");
  EXPECT_EQ(read(sound), "{\"a\":3}\n");
  EXPECT_EQ(read(newest), "{\"a\":4}\n");
  EXPECT_EQ(read(other), "not a record\npartial");                     // not a sink file
  EXPECT_EQ(read((outside / "target.jsonl").string()), "line\ntorn");  // a link is not followed
}

TEST_F(TornTailTest, AMissingDirectoryHasNothingToRepair) {
  const TailRepair r = cut_torn_tails((dir_ / "absent").string(), "records-", ".jsonl");
  EXPECT_TRUE(r.failures.empty());
  EXPECT_EQ(r.files_cut, 0u);
}

}  // namespace
}  // namespace uc::sinks::file
