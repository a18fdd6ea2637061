// StoreResolver: environment overrides, the store, and the config loader using it.
#include "credentials/resolver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "config/loader.h"

namespace uc::credentials {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

config::EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("uc_resolver_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "credentials.enc").string();
    KeyInputs keys;
    keys.password = "master-pw";
    auto store = Store::create(path_, keys, kMinIterations, clock_);
    ASSERT_TRUE(store.is_ok());
    ASSERT_TRUE(store->set("api_token", "TOKEN-FROM-STORE").is_ok());
    ASSERT_TRUE(store->set("zerobus.client-secret", "zb-secret").is_ok());
    ASSERT_TRUE(store->save().is_ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  ManualClock clock_;
  fs::path dir_;
  std::string path_;
};

TEST(OverrideVariable, NameScheme) {
  EXPECT_EQ(override_variable("api_token"), "CONNECTOR_CREDENTIAL_API_TOKEN");
  EXPECT_EQ(override_variable("zerobus.client-secret"), "CONNECTOR_CREDENTIAL_ZEROBUS_CLIENT_SECRET");
}

TEST_F(ResolverTest, ResolvesFromTheStore) {
  StoreResolver r(path_, env_of({{"CONNECTOR_MASTER_PASSWORD", "master-pw"}}), clock_);
  EXPECT_EQ(r.resolve("api_token").value(), "TOKEN-FROM-STORE");
  EXPECT_EQ(r.resolve("zerobus.client-secret").value(), "zb-secret");
  auto missing = r.resolve("nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("no credential named \"nope\" in " + path_));
}

TEST_F(ResolverTest, EnvironmentOverridesTheStoreAndNeedsNoStore) {
  StoreResolver r(path_, env_of({{"CONNECTOR_CREDENTIAL_API_TOKEN", "from-env"}}), clock_);
  EXPECT_EQ(r.resolve("api_token").value(), "from-env");  // no password needed
  StoreResolver no_store((dir_ / "absent.enc").string(), env_of({{"CONNECTOR_CREDENTIAL_API_TOKEN", "e"}}), clock_);
  EXPECT_EQ(no_store.resolve("api_token").value(), "e");
  auto other = no_store.resolve("zerobus.client-secret");
  EXPECT_EQ(other.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(other.status().message(), HasSubstr("no credential store at " + (dir_ / "absent.enc").string()));
  EXPECT_THAT(other.status().message(), HasSubstr("CONNECTOR_CREDENTIAL_ZEROBUS_CLIENT_SECRET"));
}

TEST_F(ResolverTest, LockedOrWrongPassword) {
  StoreResolver locked(path_, env_of({}), clock_);
  EXPECT_EQ(locked.resolve("api_token").status().code(), StatusCode::kFailedPrecondition);
  StoreResolver wrong(path_, env_of({{"CONNECTOR_MASTER_PASSWORD", "nope-pw"}}), clock_);
  auto r = wrong.resolve("api_token");
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(r.status().message(), Not(HasSubstr("nope-pw")));
}

TEST_F(ResolverTest, KeyFileFromEnvironment) {
  const std::string key_path = (dir_ / "fernet.key").string();
  KeyInputs keys;
  keys.key = FernetKey::generate().value();
  {
    std::ofstream(key_path) << keys.key->to_base64() << "\n";
  }
  ::chmod(key_path.c_str(), 0600);
  const std::string kpath = (dir_ / "k.enc").string();
  auto store = Store::create(kpath, keys, kMinIterations, clock_);
  ASSERT_TRUE(store->set("a", "b").is_ok());
  ASSERT_TRUE(store->save().is_ok());
  StoreResolver r(kpath, env_of({{"CONNECTOR_KEY_FILE", key_path}}), clock_);
  EXPECT_EQ(r.resolve("a").value(), "b");
  ::chmod(key_path.c_str(), 0640);
  StoreResolver refused(kpath, env_of({{"CONNECTOR_KEY_FILE", key_path}}), clock_);
  auto e = refused.resolve("a");
  EXPECT_EQ(e.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(e.status().message(), HasSubstr("CONNECTOR_KEY_FILE: key file " + key_path));
}

TEST_F(ResolverTest, ConfigLoaderFillsSecretsAndNamesTheKeyOfAMissingOne) {
  config::Loader loader;
  StoreResolver r(path_, env_of({{"CONNECTOR_MASTER_PASSWORD", "master-pw"}}), clock_);
  auto ok = loader.load_string("connector: {name: t}\nweb_ui:\n  auth_token: ${credential:api_token}\n", "c.yaml", &r);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.config->web_ui.auth_token.value, "TOKEN-FROM-STORE");
  EXPECT_EQ(ok.config->web_ui.auth_token.reference, "api_token");

  auto bad = loader.load_string("connector: {name: t}\nweb_ui:\n  auth_token: ${credential:nope}\n", "c.yaml", &r);
  ASSERT_EQ(bad.errors.size(), 1U);
  const std::string msg = bad.errors[0].to_string();
  EXPECT_THAT(msg, HasSubstr("c.yaml:3:15: web_ui.auth_token: cannot resolve credential \"nope\": NOT_FOUND"));
  EXPECT_THAT(msg, Not(HasSubstr("TOKEN-FROM-STORE")));
}

}  // namespace
}  // namespace uc::credentials
