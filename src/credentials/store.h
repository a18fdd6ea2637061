// The encrypted credential store (SPEC §8): one JSON file, mode 0600.
//
// File format, version 1 (docs/credentials.md):
//
//   {
//     "format": "unified-connector-credentials",
//     "version": 1,
//     "kdf": "pbkdf2-hmac-sha256",        // or "key-file": the key is CONNECTOR_KEY_FILE's
//     "iterations": 480000,               // pbkdf2 only, 1000..10000000
//     "salt": "<URL-safe base64 of 16 random bytes>",   // pbkdf2 only
//     "check": "<Fernet token of \"unified-connector credential store\">",
//     "entries": {"<name>": "<Fernet token of the value>", ...}
//   }
//
// Names are [A-Za-z0-9_.-]+ (the config's ${credential:NAME}) and are not
// secret; values are. The key is PBKDF2-HMAC-SHA256(master password, salt,
// iterations) or the key file's 32 bytes; "check" tells a wrong password from a
// tampered entry and keeps a wrong password from ever writing the store.
// Entries carry no TTL.
//
// Writes are atomic: a temporary file in the same directory (mode 0600), fsync,
// rename over the store, fsync of the directory. A failed write leaves the old
// file as it was. A store file that group or others may read or write is
// refused (mode bits, whoever the caller is).
//
// Not thread-safe; one Store per thread. Concurrent writers from different
// processes are not serialised (the last rename wins).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "credentials/fernet.h"
#include "credentials/kdf.h"

namespace uc::credentials {

inline constexpr std::string_view kStoreFormat = "unified-connector-credentials";
inline constexpr int kStoreVersion = 1;
inline constexpr std::string_view kKdfPbkdf2 = "pbkdf2-hmac-sha256";
inline constexpr std::string_view kKdfKeyFile = "key-file";
inline constexpr std::string_view kCheckPlaintext = "unified-connector credential store";

inline constexpr std::size_t kMaxStoreBytes = 8U * 1024U * 1024U;
inline constexpr std::size_t kMaxEntries = 10'000;
inline constexpr std::size_t kMaxValueBytes = 64U * 1024U;
inline constexpr std::size_t kMaxNameBytes = 128;
inline constexpr std::size_t kMaxKeyFileBytes = 4096;

// What the caller can unlock a store with. A pbkdf2 store needs the password,
// a key-file store the key; a new store uses the key when one is given.
struct KeyInputs {
  std::optional<std::string> password;
  std::optional<FernetKey> key;
  bool empty() const { return !password && !key; }
};

// Reads a Fernet key file (URL-safe base64 of 32 bytes; surrounding whitespace
// ignored). Refused when group or others may access it.
Result<FernetKey> read_key_file(const std::string& path);

// Refuses a file whose mode lets group or others read, write or execute it:
// PERMISSION_DENIED naming the file, its mode and the fix.
Status check_private_mode(const std::string& path, mode_t mode, std::string_view what);

// Writes data to path atomically with the given mode (see above). Creates
// missing parent directories (mode 0700).
Status write_file_atomically(const std::string& path, std::string_view data, mode_t mode = 0600);

// True for a valid entry name: [A-Za-z0-9_.-]{1,128}.
bool is_valid_entry_name(std::string_view name);

class Store {
 public:
  // Reads and checks the file without decrypting anything. NOT_FOUND when it
  // does not exist, PERMISSION_DENIED for a group/other-accessible mode,
  // DATA_LOSS for anything that is not a well-formed version-1 store.
  static Result<Store> load(const std::string& path, const Clock& clock = SystemClock::instance());
  // A new, empty, unlocked store (written by save()). A password yields a pbkdf2
  // store with a fresh salt; otherwise keys.key a key-file store.
  static Result<Store> create(const std::string& path, const KeyInputs& keys,
                              std::uint32_t iterations = kDefaultIterations,
                              const Clock& clock = SystemClock::instance());

  // Derives or takes the key and verifies it against "check":
  // FAILED_PRECONDITION when the needed input is missing, UNAUTHENTICATED when
  // it is wrong.
  Status unlock(const KeyInputs& keys);
  bool unlocked() const { return fernet_.has_value(); }

  const std::string& path() const { return path_; }
  std::string_view kdf() const { return kdf_; }
  std::uint32_t iterations() const { return iterations_; }
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }

  // The decrypted value: NOT_FOUND, or DATA_LOSS when the entry's token does not
  // verify. Requires unlock().
  Result<std::string> get(const std::string& name) const;
  // Adds or replaces an entry (in memory). Requires unlock().
  Status set(const std::string& name, std::string_view value);
  // Removes an entry (in memory); false when there was none.
  bool erase(const std::string& name);
  // New key material: every entry decrypted with the old key and re-encrypted
  // with the new one (fresh salt). All or nothing: on error the store is as before.
  Status rekey(const KeyInputs& keys, std::uint32_t iterations = kDefaultIterations);

  // The file's text.
  std::string serialize() const;
  // write_file_atomically(path(), serialize(), 0600).
  Status save() const;

 private:
  Store(std::string path, const Clock& clock) : path_(std::move(path)), clock_(&clock) {}

  std::string path_;
  const Clock* clock_;
  std::string kdf_;
  std::uint32_t iterations_ = 0;
  std::string salt_;   // raw bytes
  std::string check_;  // token
  std::map<std::string, std::string> entries_;  // name -> token
  std::optional<Fernet> fernet_;
};

}  // namespace uc::credentials
