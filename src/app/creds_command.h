// `unified-connector creds set|get|list|delete|rotate` (SPEC §1, §8; docs/credentials.md).
//
// Every subcommand takes --store FILE (default ./data/credentials.enc, SPEC
// Appendix A's credentials.store). The key comes from CONNECTOR_MASTER_PASSWORD
// or CONNECTOR_KEY_FILE, or, when stdin is a terminal, from a prompt without
// echo. Exit codes: 0 ok; 1 the store could not be read, unlocked or written,
// or has no such entry; 2 usage (bad name, no key, empty value).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace CLI {
class App;
}

namespace uc::app {

struct CredsCommand {
  CLI::App* creds = nullptr;
  CLI::App* set = nullptr;
  CLI::App* get = nullptr;
  CLI::App* list = nullptr;
  CLI::App* del = nullptr;
  CLI::App* rotate = nullptr;
  std::string store = "./data/credentials.enc";
  std::string name;
  bool show = false;
  std::uint32_t iterations = 480'000;
  std::string new_key_file;

  bool selected() const;
};

// Adds the `creds` subcommand and its own subcommands to app.
std::unique_ptr<CredsCommand> add_creds_command(CLI::App& app);

int cmd_creds(const CredsCommand& cmd);

}  // namespace uc::app
