// The store file: round trips, key files, rotation, atomic writes, and every
// kind of bad input refused with a clear error and the file left unchanged.
#include "credentials/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "credentials/base64url.h"

namespace uc::credentials {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::uint32_t kFast = kMinIterations;  // keep the tests quick

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  ::chmod(path.c_str(), 0600);
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 07777;
}

KeyInputs password(std::string pw) {
  KeyInputs k;
  k.password = std::move(pw);
  return k;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("uc_store_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "credentials.enc").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A saved store with two entries under password "hunter2".
  void make_store() {
    auto store = Store::create(path_, password("hunter2"), kFast, clock_);
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    ASSERT_TRUE(store->set("api_token", "tok-123").is_ok());
    ASSERT_TRUE(store->set("opc.password", "pa$$ word\n").is_ok());
    ASSERT_TRUE(store->save().is_ok());
  }

  std::vector<std::string> files_in_dir() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  // Loads and unlocks with "hunter2"; returns the status of the first failure.
  Status open_status() const {
    auto store = Store::load(path_, clock_);
    if (!store) return store.status();
    return store->unlock(password("hunter2"));
  }

  ManualClock clock_;
  fs::path dir_;
  std::string path_;
};

TEST_F(StoreTest, RoundTrip) {
  make_store();
  EXPECT_EQ(mode_of(path_), 0600U);
  auto store = Store::load(path_, clock_);
  ASSERT_TRUE(store.is_ok()) << store.status().to_string();
  EXPECT_EQ(store->names(), (std::vector<std::string>{"api_token", "opc.password"}));  // no key needed
  EXPECT_FALSE(store->unlocked());
  EXPECT_EQ(store->get("api_token").status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->unlock(password("hunter2")).is_ok());
  EXPECT_EQ(store->get("api_token").value(), "tok-123");
  EXPECT_EQ(store->get("opc.password").value(), "pa$$ word\n");
  EXPECT_EQ(store->get("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(files_in_dir(), std::vector<std::string>{"credentials.enc"});  // no temp files left
}

TEST_F(StoreTest, FileFormatIsDocumentedJson) {
  make_store();
  const auto doc = nlohmann::json::parse(slurp(path_));
  EXPECT_EQ(doc["format"], "unified-connector-credentials");
  EXPECT_EQ(doc["version"], 1);
  EXPECT_EQ(doc["kdf"], "pbkdf2-hmac-sha256");
  EXPECT_EQ(doc["iterations"], kFast);
  EXPECT_EQ(base64url_decode(doc["salt"].get<std::string>())->size(), kSaltBytes);
  EXPECT_EQ(doc["entries"].size(), 2U);
  EXPECT_THAT(slurp(path_), Not(HasSubstr("tok-123")));
  EXPECT_THAT(slurp(path_), Not(HasSubstr("hunter2")));
}

TEST_F(StoreTest, DefaultIterationsAre480000) {
  auto store = Store::create(path_, password("pw"), kDefaultIterations, clock_);
  ASSERT_TRUE(store.is_ok());
  EXPECT_EQ(store->iterations(), 480000U);
}

TEST_F(StoreTest, SaltIsRandomPerStore) {
  auto a = Store::create(path_, password("pw"), kFast, clock_);
  auto b = Store::create(path_, password("pw"), kFast, clock_);
  EXPECT_NE(nlohmann::json::parse(a->serialize())["salt"], nlohmann::json::parse(b->serialize())["salt"]);
}

TEST_F(StoreTest, WrongPasswordIsRefusedWithoutEchoingIt) {
  make_store();
  const std::string before = slurp(path_);
  auto store = Store::load(path_, clock_);
  ASSERT_TRUE(store.is_ok());
  Status s = store->unlock(password("hunter3-wrong"));
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), HasSubstr("wrong master password for credential store " + path_));
  EXPECT_THAT(s.message(), Not(HasSubstr("hunter3")));
  EXPECT_FALSE(store->unlocked());
  EXPECT_FALSE(store->set("x", "y").is_ok());
  EXPECT_EQ(slurp(path_), before);
}

TEST_F(StoreTest, MissingKeyInputsSayWhichVariable) {
  make_store();
  auto store = Store::load(path_, clock_);
  Status s = store->unlock(KeyInputs{});
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("CONNECTOR_MASTER_PASSWORD"));
}

TEST_F(StoreTest, KeyFileStore) {
  KeyInputs keys;
  keys.key = FernetKey::generate().value();
  auto store = Store::create(path_, keys, kFast, clock_);
  ASSERT_TRUE(store.is_ok());
  ASSERT_TRUE(store->set("a", "1").is_ok());
  ASSERT_TRUE(store->save().is_ok());
  const auto doc = nlohmann::json::parse(slurp(path_));
  EXPECT_EQ(doc["kdf"], "key-file");
  EXPECT_FALSE(doc.contains("salt"));

  auto loaded = Store::load(path_, clock_);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_THAT(loaded->unlock(password("pw")).message(), HasSubstr("CONNECTOR_KEY_FILE"));
  KeyInputs other;
  other.key = FernetKey::generate().value();
  EXPECT_EQ(loaded->unlock(other).code(), StatusCode::kUnauthenticated);
  ASSERT_TRUE(loaded->unlock(keys).is_ok());
  EXPECT_EQ(loaded->get("a").value(), "1");
}

TEST_F(StoreTest, TamperedTokenIsDataLossAndOthersStillRead) {
  make_store();
  auto doc = nlohmann::json::parse(slurp(path_));
  std::string token = doc["entries"]["api_token"];
  token[20] = token[20] == 'A' ? 'B' : 'A';
  doc["entries"]["api_token"] = token;
  spit(path_, doc.dump());
  const std::string before = slurp(path_);
  auto store = Store::load(path_, clock_);
  ASSERT_TRUE(store.is_ok());
  ASSERT_TRUE(store->unlock(password("hunter2")).is_ok());
  auto r = store->get("api_token");
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("credential \"api_token\" in " + path_ + " cannot be decrypted"));
  EXPECT_THAT(r.status().message(), HasSubstr("incorrect MAC"));
  EXPECT_EQ(store->get("opc.password").value(), "pa$$ word\n");
  // Rotation needs every entry: it fails and changes nothing.
  const std::string text = store->serialize();
  EXPECT_EQ(store->rekey(password("new"), kFast).code(), StatusCode::kDataLoss);
  EXPECT_EQ(store->serialize(), text);
  EXPECT_EQ(slurp(path_), before);
}

TEST_F(StoreTest, InvalidBase64EntryAndSalt) {
  make_store();
  auto doc = nlohmann::json::parse(slurp(path_));
  doc["entries"]["api_token"] = "%%%%not base64%%%%";
  spit(path_, doc.dump());
  auto store = Store::load(path_, clock_);
  ASSERT_TRUE(store->unlock(password("hunter2")).is_ok());
  EXPECT_THAT(store->get("api_token").status().message(), HasSubstr("not URL-safe base64"));

  doc["salt"] = "%%%%";
  spit(path_, doc.dump());
  const std::string before = slurp(path_);
  Status s = open_status();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("\"salt\": invalid base64"));
  EXPECT_EQ(slurp(path_), before);
}

TEST_F(StoreTest, TruncatedStoreIsRefused) {
  make_store();
  const std::string full = slurp(path_);
  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, full.size() / 2, full.size() - 3}) {
    spit(path_, full.substr(0, cut));
    Status s = open_status();
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << cut;
    EXPECT_THAT(s.message(), HasSubstr("credential store " + path_ + " is damaged or not a credential store")) << cut;
    EXPECT_EQ(slurp(path_), full.substr(0, cut));
  }
}

TEST_F(StoreTest, GarbageAndWrongShapesAreRefused) {
  std::mt19937 rng(7);
  std::string garbage(4096, '\0');
  for (auto& c : garbage) c = static_cast<char>(rng());
  const std::vector<std::string> bad = {
      garbage,
      "[]",
      "{}",
      R"({"format":"something-else","version":1})",
      R"({"format":"unified-connector-credentials","version":1,"kdf":"rot13","check":"x","entries":{}})",
      R"({"format":"unified-connector-credentials","version":1,"kdf":"pbkdf2-hmac-sha256","iterations":1,"salt":"AAAAAAAAAAAAAAAAAAAAAA==","check":"x","entries":{}})",
      R"({"format":"unified-connector-credentials","version":1,"kdf":"pbkdf2-hmac-sha256","iterations":99999999999,"salt":"AAAAAAAAAAAAAAAAAAAAAA==","check":"x","entries":{}})",
      R"({"format":"unified-connector-credentials","version":1,"kdf":"key-file","check":"x","entries":{"bad name":"x"}})",
      R"({"format":"unified-connector-credentials","version":1,"kdf":"key-file","check":"x","entries":{"a":1}})",
      R"({"format":"unified-connector-credentials","version":1,"kdf":"key-file","check":"x","entries":[]})",
      R"({"format":"unified-connector-credentials","version":1,"kdf":"key-file","check":"x","entries":{},"extra":1})",
  };
  for (const auto& text : bad) {
    spit(path_, text);
    auto r = Store::load(path_, clock_);
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << text.substr(0, 60);
    EXPECT_EQ(slurp(path_), text);
  }
  spit(path_, R"({"format":"unified-connector-credentials","version":2})");
  EXPECT_THAT(Store::load(path_, clock_).status().message(), HasSubstr("has version 2; this build reads version 1"));
}

TEST_F(StoreTest, GroupOrOtherAccessIsRefused) {
  make_store();
  const std::string before = slurp(path_);
  for (mode_t mode : {0640, 0604, 0620, 0602, 0660, 0644, 0666, 0610}) {
    ::chmod(path_.c_str(), mode);
    Status s = Store::load(path_, clock_).status();
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << std::oct << mode;
    EXPECT_THAT(s.message(), HasSubstr("lets group or others access it"));
    EXPECT_THAT(s.message(), HasSubstr("chmod 600 " + path_));
    EXPECT_EQ(mode_of(path_), mode);
  }
  ::chmod(path_.c_str(), 0400);
  EXPECT_TRUE(Store::load(path_, clock_).is_ok());
  EXPECT_EQ(slurp(path_), before);
}

TEST_F(StoreTest, MissingStoreIsNotFound) {
  auto r = Store::load(path_, clock_);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr(path_));
}

TEST_F(StoreTest, OversizedInputsAreRefused) {
  make_store();
  const std::string before = slurp(path_);
  auto store = Store::load(path_, clock_);
  ASSERT_TRUE(store->unlock(password("hunter2")).is_ok());
  Status s = store->set("big", std::string(kMaxValueBytes + 1, 'x'));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("larger than 65536 bytes"));
  EXPECT_TRUE(store->set("max", std::string(kMaxValueBytes, 'x')).is_ok());
  EXPECT_EQ(store->set(std::string(kMaxNameBytes + 1, 'n'), "v").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->set("white space", "v").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->set("", "v").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(slurp(path_), before);  // nothing saved

  spit(path_, std::string(kMaxStoreBytes + 1, ' '));
  Status big = Store::load(path_, clock_).status();
  EXPECT_EQ(big.code(), StatusCode::kDataLoss);
  EXPECT_THAT(big.message(), HasSubstr("larger than"));
}

TEST_F(StoreTest, RekeyReencryptsEverythingWithANewSalt) {
  make_store();
  const auto old_doc = nlohmann::json::parse(slurp(path_));
  auto store = Store::load(path_, clock_);
  ASSERT_TRUE(store->unlock(password("hunter2")).is_ok());
  ASSERT_TRUE(store->rekey(password("correct horse"), kFast).is_ok());
  ASSERT_TRUE(store->save().is_ok());
  const auto doc = nlohmann::json::parse(slurp(path_));
  EXPECT_NE(doc["salt"], old_doc["salt"]);
  EXPECT_NE(doc["check"], old_doc["check"]);
  EXPECT_NE(doc["entries"]["api_token"], old_doc["entries"]["api_token"]);
  EXPECT_EQ(open_status().code(), StatusCode::kUnauthenticated);  // old password
  auto again = Store::load(path_, clock_);
  ASSERT_TRUE(again->unlock(password("correct horse")).is_ok());
  EXPECT_EQ(again->get("api_token").value(), "tok-123");
  EXPECT_EQ(again->get("opc.password").value(), "pa$$ word\n");
  EXPECT_EQ(mode_of(path_), 0600U);
}

TEST_F(StoreTest, EraseAndOverwrite) {
  make_store();
  auto store = Store::load(path_, clock_);
  ASSERT_TRUE(store->unlock(password("hunter2")).is_ok());
  EXPECT_TRUE(store->erase("api_token"));
  EXPECT_FALSE(store->erase("api_token"));
  ASSERT_TRUE(store->set("opc.password", "new").is_ok());
  ASSERT_TRUE(store->save().is_ok());
  auto again = Store::load(path_, clock_);
  ASSERT_TRUE(again->unlock(password("hunter2")).is_ok());
  EXPECT_EQ(again->names(), std::vector<std::string>{"opc.password"});
  EXPECT_EQ(again->get("opc.password").value(), "new");
}

TEST_F(StoreTest, AtomicWriteReplacesWholeFileWithMode0600) {
  spit(path_, "old contents");
  ::chmod(path_.c_str(), 0644);
  ASSERT_TRUE(write_file_atomically(path_, "new", 0600).is_ok());
  EXPECT_EQ(slurp(path_), "new");
  EXPECT_EQ(mode_of(path_), 0600U);
  EXPECT_EQ(files_in_dir(), std::vector<std::string>{"credentials.enc"});
}

TEST_F(StoreTest, AtomicWriteFailureLeavesNoTraceAndOldFileIntact) {
  // The target is a non-empty directory: rename fails after the temp file was written.
  const std::string target = (dir_ / "occupied").string();
  fs::create_directories(target + "/child");
  Status s = write_file_atomically(target, "data", 0600);
  EXPECT_FALSE(s.is_ok());
  EXPECT_THAT(s.message(), HasSubstr("rename"));
  EXPECT_TRUE(fs::is_directory(target));
  EXPECT_EQ(files_in_dir(), std::vector<std::string>{"occupied"});
  // A parent that is a file.
  spit(path_, "keep");
  EXPECT_FALSE(write_file_atomically(path_ + "/inner", "data", 0600).is_ok());
  EXPECT_EQ(slurp(path_), "keep");
}

TEST_F(StoreTest, AtomicWriteCreatesMissingDirectories) {
  const std::string nested = (dir_ / "a" / "b" / "credentials.enc").string();
  ASSERT_TRUE(write_file_atomically(nested, "x", 0600).is_ok());
  EXPECT_EQ(slurp(nested), "x");
  EXPECT_EQ(mode_of((dir_ / "a" / "b").string()), 0700U);
}

TEST_F(StoreTest, KeyFiles) {
  const std::string key_path = (dir_ / "key").string();
  const std::string key = FernetKey::generate()->to_base64();
  spit(key_path, key + "\n");
  auto k = read_key_file(key_path);
  ASSERT_TRUE(k.is_ok()) << k.status().to_string();
  EXPECT_EQ(k->to_base64(), key);
  ::chmod(key_path.c_str(), 0644);
  EXPECT_EQ(read_key_file(key_path).status().code(), StatusCode::kPermissionDenied);
  spit(key_path, "not a key");
  Status s = read_key_file(key_path).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), Not(HasSubstr("not a key")));
  EXPECT_EQ(read_key_file((dir_ / "absent").string()).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace uc::credentials
