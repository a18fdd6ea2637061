#include "credentials/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "credentials/base64url.h"

namespace uc::credentials {
namespace {

using nlohmann::json;

std::string errno_text(int err) { return std::strerror(err); }

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Reads a whole private file (at most max_bytes) through one descriptor so that
// the mode checked is the mode of the file read.
Result<std::string> read_private_file(const std::string& path, std::size_t max_bytes, std::string_view what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return not_found("no " + std::string(what) + " at " + path);
    return Status(StatusCode::kPermissionDenied, "cannot open " + std::string(what) + " " + path + ": " + errno_text(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return internal_error("cannot stat " + path + ": " + errno_text(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalid_argument(std::string(what) + " " + path + " is not a regular file");
  }
  if (Status s = check_private_mode(path, st.st_mode, what); !s.is_ok()) {
    ::close(fd);
    return s;
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return Status(StatusCode::kDataLoss, std::string(what) + " " + path + " is larger than " +
                                             std::to_string(max_bytes) + " bytes; refusing to read it");
  }
  std::string data;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return internal_error("cannot read " + path + ": " + errno_text(err));
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > max_bytes) {
      ::close(fd);
      OPENSSL_cleanse(data.data(), data.size());
      return Status(StatusCode::kDataLoss, std::string(what) + " " + path + " is larger than " +
                                               std::to_string(max_bytes) + " bytes; refusing to read it");
    }
  }
  OPENSSL_cleanse(buf, sizeof buf);
  ::close(fd);
  return data;
}

Status corrupt(const std::string& path, const std::string& why) {
  return Status(StatusCode::kDataLoss, "credential store " + path + " is damaged or not a credential store: " + why);
}

Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return internal_error(errno_text(errno));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::ok();
}

}  // namespace

bool is_valid_entry_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status check_private_mode(const std::string& path, mode_t mode, std::string_view what) {
  if ((mode & 077) == 0) return Status::ok();
  return Status(StatusCode::kPermissionDenied,
                std::string(what) + " " + path + " has mode " + octal_mode(mode) +
                    ", which lets group or others access it; refusing to use it (fix: chmod 600 " + path + ")");
}

Result<FernetKey> read_key_file(const std::string& path) {
  auto text = read_private_file(path, kMaxKeyFileBytes, "key file");
  if (!text) return text.status();
  std::string_view v = *text;
  const auto not_space = [](char c) { return c != ' ' && c != '\t' && c != '\r' && c != '\n'; };
  while (!v.empty() && !not_space(v.front())) v.remove_prefix(1);
  while (!v.empty() && !not_space(v.back())) v.remove_suffix(1);
  auto key = FernetKey::from_base64(v);
  OPENSSL_cleanse(text->data(), text->size());
  if (!key) return invalid_argument("key file " + path + ": " + key.status().message());
  return key;
}

Status write_file_atomically(const std::string& path, std::string_view data, mode_t mode) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return internal_error("cannot create directory " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  std::string tmp = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return internal_error("cannot create a temporary file next to " + path + ": " + errno_text(errno));
  auto fail = [&](const std::string& what, int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return internal_error("cannot write " + path + ": " + what + ": " + errno_text(err));
  };
  if (::fchmod(fd, mode) != 0) return fail("fchmod", errno);
  if (Status s = write_all(fd, data); !s.is_ok()) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return internal_error("cannot write " + path + ": " + s.message());
  }
  if (::fsync(fd) != 0) return fail("fsync", errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return internal_error("cannot write " + path + ": close: " + errno_text(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return internal_error("cannot write " + path + ": rename: " + errno_text(err));
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    const int rc = ::fsync(dfd);
    const int err = errno;
    ::close(dfd);
    if (rc != 0) return internal_error("cannot fsync directory " + dir.string() + ": " + errno_text(err));
  }
  return Status::ok();
}

Result<Store> Store::load(const std::string& path, const Clock& clock) {
  auto text = read_private_file(path, kMaxStoreBytes, "credential store");
  if (!text) return text.status();
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return corrupt(path, "not valid JSON (truncated?)");
  if (!doc.is_object()) return corrupt(path, "not a JSON object");
  const auto str = [&](const char* key) -> const std::string* {
    auto it = doc.find(key);
    return it != doc.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  const std::string* format = str("format");
  if (format == nullptr || *format != kStoreFormat) return corrupt(path, "\"format\" is not \"" + std::string(kStoreFormat) + "\"");
  auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer()) return corrupt(path, "\"version\" is missing");
  if (version->get<std::int64_t>() != kStoreVersion) {
    return Status(StatusCode::kFailedPrecondition, "credential store " + path + " has version " +
                                                       std::to_string(version->get<std::int64_t>()) +
                                                       "; this build reads version " + std::to_string(kStoreVersion));
  }
  Store store(path, clock);
  const std::string* kdf = str("kdf");
  if (kdf == nullptr || (*kdf != kKdfPbkdf2 && *kdf != kKdfKeyFile)) {
    return corrupt(path, "\"kdf\" must be \"" + std::string(kKdfPbkdf2) + "\" or \"" + std::string(kKdfKeyFile) + "\"");
  }
  store.kdf_ = *kdf;
  if (store.kdf_ == kKdfPbkdf2) {
    auto it = doc.find("iterations");
    if (it == doc.end() || !it->is_number_unsigned() || it->get<std::uint64_t>() < kMinIterations ||
        it->get<std::uint64_t>() > kMaxIterations) {
      return corrupt(path, "\"iterations\" must be an integer between " + std::to_string(kMinIterations) + " and " +
                               std::to_string(kMaxIterations));
    }
    store.iterations_ = static_cast<std::uint32_t>(it->get<std::uint64_t>());
    const std::string* salt = str("salt");
    if (salt == nullptr) return corrupt(path, "\"salt\" is missing");
    auto raw = base64url_decode(*salt);
    if (!raw) return corrupt(path, "\"salt\": " + raw.status().message());
    if (raw->size() < 8 || raw->size() > 64) return corrupt(path, "\"salt\" must be 8 to 64 bytes");
    store.salt_ = std::move(raw).value();
  }
  const std::string* check = str("check");
  if (check == nullptr || check->size() > 1024) return corrupt(path, "\"check\" is missing");
  store.check_ = *check;
  auto entries = doc.find("entries");
  if (entries == doc.end() || !entries->is_object()) return corrupt(path, "\"entries\" is missing or not an object");
  if (entries->size() > kMaxEntries) return corrupt(path, "more than " + std::to_string(kMaxEntries) + " entries");
  for (const auto& [name, token] : entries->items()) {
    if (!is_valid_entry_name(name)) return corrupt(path, "an entry has an invalid name");
    if (!token.is_string()) return corrupt(path, "entry \"" + name + "\" is not a string");
    store.entries_[name] = token.get<std::string>();
  }
  for (const auto& [key, value] : doc.items()) {
    static const char* const kKnown[] = {"format", "version", "kdf", "iterations", "salt", "check", "entries"};
    bool known = false;
    for (const char* k : kKnown) known = known || key == k;
    if (!known) return corrupt(path, "unknown key \"" + key + "\"");
  }
  OPENSSL_cleanse(text->data(), text->size());
  return store;
}

Result<Store> Store::create(const std::string& path, const KeyInputs& keys, std::uint32_t iterations,
                            const Clock& clock) {
  Store store(path, clock);
  if (Status s = store.rekey(keys, iterations); !s.is_ok()) return s;
  return store;
}

Status Store::unlock(const KeyInputs& keys) {
  std::optional<FernetKey> key;
  if (kdf_ == kKdfPbkdf2) {
    if (!keys.password) {
      return Status(StatusCode::kFailedPrecondition, "credential store " + path_ +
                                                         " is protected by a master password: set "
                                                         "CONNECTOR_MASTER_PASSWORD");
    }
    auto derived = derive_key(*keys.password, salt_, iterations_);
    if (!derived) return derived.status();
    key = std::move(derived).value();
  } else {
    if (!keys.key) {
      return Status(StatusCode::kFailedPrecondition,
                    "credential store " + path_ + " is protected by a key file: set CONNECTOR_KEY_FILE");
    }
    key = keys.key;
  }
  Fernet fernet(*key, *clock_);
  auto check = fernet.decrypt(check_);
  if (!check || *check != kCheckPlaintext) {
    return Status(StatusCode::kUnauthenticated,
                  std::string("wrong ") + (kdf_ == kKdfPbkdf2 ? "master password" : "key") + " for credential store " +
                      path_ + (check ? "" : " (" + check.status().message() + ")"));
  }
  fernet_.emplace(fernet);
  return Status::ok();
}

std::vector<std::string> Store::names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& [name, token] : entries_) out.push_back(name);
  return out;
}

Result<std::string> Store::get(const std::string& name) const {
  if (!fernet_) return Status(StatusCode::kFailedPrecondition, "credential store " + path_ + " is locked");
  auto it = entries_.find(name);
  if (it == entries_.end()) return not_found("no credential named \"" + name + "\" in " + path_);
  auto value = fernet_->decrypt(it->second);
  if (!value) {
    return Status(StatusCode::kDataLoss, "credential \"" + name + "\" in " + path_ +
                                             " cannot be decrypted: " + value.status().message());
  }
  return value;
}

Status Store::set(const std::string& name, std::string_view value) {
  if (!fernet_) return Status(StatusCode::kFailedPrecondition, "credential store " + path_ + " is locked");
  if (!is_valid_entry_name(name)) {
    return invalid_argument("invalid credential name \"" + name.substr(0, kMaxNameBytes) +
                            "\": use 1 to 128 of A-Z a-z 0-9 _ . -");
  }
  if (value.size() > kMaxValueBytes) {
    return invalid_argument("the value of credential \"" + name + "\" is larger than " + std::to_string(kMaxValueBytes) +
                            " bytes");
  }
  if (!contains(name) && entries_.size() >= kMaxEntries) {
    return Status(StatusCode::kResourceExhausted, "credential store " + path_ + " already holds " +
                                                      std::to_string(kMaxEntries) + " entries");
  }
  auto token = fernet_->encrypt(value);
  if (!token) return token.status();
  entries_[name] = std::move(token).value();
  return Status::ok();
}

bool Store::erase(const std::string& name) { return entries_.erase(name) != 0; }

Status Store::rekey(const KeyInputs& keys, std::uint32_t iterations) {
  if (keys.empty()) {
    return Status(StatusCode::kFailedPrecondition, "no key: set CONNECTOR_MASTER_PASSWORD or CONNECTOR_KEY_FILE");
  }
  if (!entries_.empty() && !fernet_) {
    return Status(StatusCode::kFailedPrecondition, "credential store " + path_ + " is locked");
  }
  std::string kdf;
  std::string salt;
  std::optional<FernetKey> key;
  if (keys.password) {
    auto s = random_bytes(kSaltBytes);
    if (!s) return s.status();
    salt = std::move(s).value();
    auto derived = derive_key(*keys.password, salt, iterations);
    if (!derived) return derived.status();
    key = std::move(derived).value();
    kdf = kKdfPbkdf2;
  } else {
    key = keys.key;
    kdf = kKdfKeyFile;
    iterations = 0;
  }
  Fernet next(*key, *clock_);
  auto check = next.encrypt(kCheckPlaintext);
  if (!check) return check.status();
  std::map<std::string, std::string> entries;
  for (const auto& [name, token] : entries_) {
    auto value = get(name);
    if (!value) return value.status();
    auto fresh = next.encrypt(*value);
    OPENSSL_cleanse(value->data(), value->size());
    if (!fresh) return fresh.status();
    entries[name] = std::move(fresh).value();
  }
  kdf_ = std::move(kdf);
  iterations_ = iterations;
  salt_ = std::move(salt);
  check_ = std::move(check).value();
  entries_ = std::move(entries);
  fernet_.emplace(next);
  return Status::ok();
}

std::string Store::serialize() const {
  json doc = json::object();
  doc["format"] = std::string(kStoreFormat);
  doc["version"] = kStoreVersion;
  doc["kdf"] = kdf_;
  if (kdf_ == kKdfPbkdf2) {
    doc["iterations"] = iterations_;
    doc["salt"] = base64url_encode(salt_);
  }
  doc["check"] = check_;
  doc["entries"] = json::object();
  for (const auto& [name, token] : entries_) doc["entries"][name] = token;
  return doc.dump(2) + "\n";
}

Status Store::save() const { return write_file_atomically(path_, serialize(), 0600); }

}  // namespace uc::credentials
