#include "buffer/dlq.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace uc::buffer {
namespace {

namespace fs = std::filesystem;

class DlqTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("uc_dlq_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Record record(int i) {
    auto tag = std::make_shared<TagInfo>();
    tag->tag_path = "a/b/" + std::to_string(i);
    Record r;
    r.tag = tag;
    r.value_type = ValueKind::kInt;
    r.value_num = i;
    r.value_str = std::to_string(i);
    return r;
  }

  fs::path dir_;
};

TEST_F(DlqTest, AddListReplayPurge) {
  auto q = DeadLetterQueue::open(dir_.string(), "cat.sch.tbl");
  ASSERT_TRUE(q.is_ok()) << q.status().to_string();
  Record a = record(1), b = record(2), c = record(3);
  ASSERT_TRUE((*q)->add({&a, &b}, {"schema mismatch", "too large"}, 42).is_ok());
  ASSERT_TRUE((*q)->add({&c}, {"bad \"quote\""}, 43).is_ok());
  EXPECT_EQ((*q)->count(), 3u);

  auto entries = (*q)->list(1, 10);
  ASSERT_TRUE(entries.is_ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].reason, "too large");
  EXPECT_EQ((*entries)[1].reason, "bad \"quote\"");
  EXPECT_EQ((*entries)[1].time_us, 43);
  EXPECT_NE((*entries)[0].record_json.find("a/b/2"), std::string::npos);

  // Reopen: the count survives.
  q = DeadLetterQueue::open(dir_.string(), "cat.sch.tbl");
  ASSERT_TRUE(q.is_ok());
  EXPECT_EQ((*q)->count(), 3u);

  // A failing replay keeps everything.
  auto failed = (*q)->replay([](std::vector<Record>&&) { return Status(StatusCode::kUnavailable, "spool full"); });
  EXPECT_FALSE(failed.is_ok());
  EXPECT_EQ((*q)->count(), 3u);

  std::vector<Record> got;
  auto n = (*q)->replay([&](std::vector<Record>&& rs) {
    got = std::move(rs);
    return Status::ok();
  });
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 3u);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].tag->tag_path, "a/b/3");
  EXPECT_EQ(got[2].value_num, 3.0);
  EXPECT_EQ((*q)->count(), 0u);

  ASSERT_TRUE((*q)->add({&a}, {"x"}, 44).is_ok());
  auto purged = (*q)->purge();
  ASSERT_TRUE(purged.is_ok());
  EXPECT_EQ(*purged, 1u);
  EXPECT_EQ((*q)->count(), 0u);
}

TEST_F(DlqTest, GarbageLinesAreShownAndKeptNotLost) {
  auto q = DeadLetterQueue::open(dir_.string(), "t");
  ASSERT_TRUE(q.is_ok());
  Record a = record(1);
  ASSERT_TRUE((*q)->add({&a}, {"r"}, 1).is_ok());
  {
    std::ofstream out((*q)->path(), std::ios::app);
    out << "not json at all\n{\"proto\":\"!!!!\"}\n";
  }
  q = DeadLetterQueue::open(dir_.string(), "t");
  ASSERT_TRUE(q.is_ok());
  EXPECT_EQ((*q)->count(), 3u);
  auto entries = (*q)->list(0, 10);
  ASSERT_TRUE(entries.is_ok());
  EXPECT_EQ((*entries)[1].reason, "unreadable DLQ line 2");
  auto n = (*q)->replay([](std::vector<Record>&&) { return Status::ok(); });
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ((*q)->count(), 2u);  // the two bad lines stay for a person to look at
}

TEST_F(DlqTest, UnusableDirectoryIsAClearError) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  auto q = DeadLetterQueue::open((dir_ / "file").string(), "t");
  ASSERT_FALSE(q.is_ok());
  EXPECT_NE(q.status().message().find("cannot create DLQ directory"), std::string::npos);
}

}  // namespace
}  // namespace uc::buffer
