// Configuration errors: every problem found while loading a config file is
// reported with its position and key path, and loading goes on so that one run
// shows them all (SPEC §1, `validate`).
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/mark.h>

namespace uc::config {

// A 1-based position in the config file, kept on values that later stages
// (normalize, sources) may still need to report errors about.
struct Location {
  int line = 0;
  int column = 0;
};

// One problem in a configuration file. line and column are 1-based (0 when the
// position is unknown). key_path looks like `sources[2].registers[0].type`; it is
// empty for problems that belong to the document as a whole.
struct ConfigError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string key_path;
  std::string message;
  // The key itself when the problem is a key of the map at key_path (unknown or duplicate),
  // not a value; empty otherwise.
  std::string key;

  // "FILE:LINE:COL: KEY.PATH: MESSAGE", or "FILE:LINE:COL: MESSAGE" when the
  // key path is empty. Messages never contain secret values.
  std::string to_string() const;
};

// A key path as a JSON pointer (RFC 6901): "tags[0].generator" -> "/tags/0/generator",
// "" -> "" (the whole document). '~' and '/' inside keys are escaped as ~0 and ~1.
std::string json_pointer(std::string_view key_path);
// The JSON pointer of what an error is about: its key path, and its key when it has one.
std::string json_pointer(const ConfigError& error);

// How many errors (and, separately, notes) a command prints before it sums up the rest:
// a file with 200,000 wrong entries reads better as 100 lines and a count.
inline constexpr std::size_t kMaxPrintedErrors = 100;

// Writes prefix + to_string() of each of the first `limit` errors, one per line, then,
// when there are more, one line `<prefix>… and N more` (N the number not written).
void write_capped(std::ostream& out, const std::vector<ConfigError>& errors, std::size_t limit,
                  std::string_view prefix = {});

// Collects errors in the order they are found, and notes: what was accepted but written
// differently than documented (another product's spelling, a default taken for a missing
// key), for `validate` and `run` to print as one line each. A note is never an error.
class Errors {
 public:
  void add(ConfigError error);
  // mark is yaml-cpp's 0-based position; a null mark (line -1) gives 0:0.
  void add(const std::string& file, const YAML::Mark& mark, std::string key_path, std::string message,
           std::string key = {});

  bool empty() const { return errors_.empty(); }
  std::size_t size() const { return errors_.size(); }
  const std::vector<ConfigError>& list() const { return errors_; }
  std::vector<ConfigError> take() { return std::move(errors_); }

  void add_note(const std::string& file, const YAML::Mark& mark, std::string key_path, std::string message);
  std::vector<ConfigError> take_notes() { return std::move(notes_); }

 private:
  std::vector<ConfigError> errors_;
  std::vector<ConfigError> notes_;
};

}  // namespace uc::config
