#include "app/creds_command.h"

#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <openssl/crypto.h>

#include "app/commands.h"
#include "credentials/resolver.h"
#include "credentials/store.h"

namespace uc::app {
namespace {

namespace cred = uc::credentials;

// Wipes a string holding secret material when it goes out of scope.
struct Wiped {
  std::string text;
  ~Wiped() { OPENSSL_cleanse(text.data(), text.size()); }
};

int fail(const std::string& message, int code = kExitFailure) {
  std::cerr << "creds: " << message << '\n';
  return code;
}

int fail(const Status& s) {
  const bool usage = s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kFailedPrecondition;
  return fail(s.message(), usage ? kExitUsage : kExitFailure);
}

bool stdin_is_tty() { return ::isatty(STDIN_FILENO) == 1; }

// One line from the terminal with echo off; nullopt on EOF. Echo goes off (and
// anything typed ahead is discarded) before the prompt appears, so nothing
// typed after the prompt can be echoed or lost.
std::optional<std::string> prompt_hidden(const std::string& prompt) {
  termios old {};
  const bool have_tty = ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (have_tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::cerr << prompt << std::flush;
  std::string line;
  const bool got = static_cast<bool>(std::getline(std::cin, line));
  if (have_tty) ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << '\n';
  if (!got) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// A new password, typed twice.
Result<std::string> prompt_new_password(const std::string& what) {
  auto first = prompt_hidden("Enter the " + what + ": ");
  if (!first || first->empty()) return invalid_argument("no password given");
  Wiped a{std::move(*first)};
  auto second = prompt_hidden("Repeat the " + what + ": ");
  if (!second) return invalid_argument("no password given");
  Wiped b{std::move(*second)};
  if (a.text != b.text) return invalid_argument("the passwords do not match");
  return a.text;
}

// The unlock inputs from the environment, or a prompt when stdin is a terminal.
Result<cred::KeyInputs> key_inputs(const std::string& store, bool creating) {
  auto keys = cred::key_inputs_from_env(config::process_environment());
  if (!keys || !keys->empty()) return keys;
  if (!stdin_is_tty()) {
    return Status(StatusCode::kFailedPrecondition,
                  std::string("no key: set ") + cred::kMasterPasswordEnv + " or " + cred::kKeyFileEnv);
  }
  if (creating) {
    auto pw = prompt_new_password("new master password for " + store);
    if (!pw) return pw.status();
    keys->password = std::move(pw).value();
  } else {
    auto pw = prompt_hidden("Master password for " + store + ": ");
    if (!pw || pw->empty()) return invalid_argument("no password given");
    keys->password = std::move(*pw);
  }
  return keys;
}

// Loads and unlocks the store; with create, a missing store becomes a new one.
Result<cred::Store> open_store(const CredsCommand& c, bool create) {
  auto store = cred::Store::load(c.store);
  if (!store && store.status().code() == StatusCode::kNotFound && create) {
    auto keys = key_inputs(c.store, true);
    if (!keys) return keys.status();
    auto fresh = cred::Store::create(c.store, *keys, c.iterations);
    if (fresh) {
      std::cerr << "creds: creating " << c.store << " ("
                << (fresh->kdf() == cred::kKdfPbkdf2
                        ? "PBKDF2-HMAC-SHA256, " + std::to_string(fresh->iterations()) + " iterations"
                        : std::string("key file"))
                << ")\n";
    }
    return fresh;
  }
  if (!store) return store.status();
  auto keys = key_inputs(c.store, false);
  if (!keys) return keys.status();
  if (Status s = store->unlock(*keys); !s.is_ok()) return s;
  return store;
}

// The value for `set`: a hidden prompt on a terminal, else all of stdin minus one
// trailing newline.
Result<std::string> read_value(const std::string& name) {
  if (stdin_is_tty()) {
    auto v = prompt_hidden("Value for " + name + ": ");
    if (!v) return invalid_argument("no value given");
    return std::move(*v);
  }
  std::string value;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, stdin)) > 0;) {
    value.append(buf, n);
    if (value.size() > cred::kMaxValueBytes + 2) break;
  }
  OPENSSL_cleanse(buf, sizeof buf);
  if (!value.empty() && value.back() == '\n') value.pop_back();
  if (!value.empty() && value.back() == '\r') value.pop_back();
  return value;
}

int check_name(const std::string& name) {
  if (cred::is_valid_entry_name(name)) return kExitOk;
  return fail("invalid credential name \"" + name.substr(0, cred::kMaxNameBytes) +
                  "\": use 1 to 128 of A-Z a-z 0-9 _ . -",
              kExitUsage);
}

int do_set(const CredsCommand& c) {
  if (int rc = check_name(c.name); rc != kExitOk) return rc;
  auto store = open_store(c, true);
  if (!store) return fail(store.status());
  auto value = read_value(c.name);
  if (!value) return fail(value.status());
  Wiped v{std::move(value).value()};
  if (v.text.empty()) return fail("empty value for " + c.name + "; nothing stored", kExitUsage);
  const bool replaced = store->contains(c.name);
  if (Status s = store->set(c.name, v.text); !s.is_ok()) return fail(s);
  if (Status s = store->save(); !s.is_ok()) return fail(s.message());
  std::cout << (replaced ? "replaced " : "stored ") << c.name << " in " << c.store << '\n';
  return kExitOk;
}

int do_get(const CredsCommand& c) {
  if (int rc = check_name(c.name); rc != kExitOk) return rc;
  auto store = open_store(c, false);
  if (!store) return fail(store.status());
  auto value = store->get(c.name);
  if (!value) return fail(value.status().message());
  Wiped v{std::move(value).value()};
  const std::string var = cred::override_variable(c.name);
  if (std::getenv(var.c_str()) != nullptr) {
    std::cerr << "creds: note: " << var << " is set and overrides this entry at run time\n";
  }
  if (c.show) {
    std::cout << v.text << '\n';
  } else {
    std::cout << c.name << " is set in " << c.store << " (use --show to print it)\n";
  }
  return kExitOk;
}

int do_list(const CredsCommand& c) {
  auto store = cred::Store::load(c.store);
  if (!store) return fail(store.status().message());
  for (const auto& n : store->names()) std::cout << n << '\n';
  return kExitOk;
}

int do_delete(const CredsCommand& c) {
  if (int rc = check_name(c.name); rc != kExitOk) return rc;
  auto store = open_store(c, false);
  if (!store) return fail(store.status());
  if (!store->erase(c.name)) return fail("no credential named \"" + c.name + "\" in " + c.store);
  if (Status s = store->save(); !s.is_ok()) return fail(s.message());
  std::cout << "deleted " << c.name << " from " << c.store << '\n';
  return kExitOk;
}

int do_rotate(const CredsCommand& c) {
  auto store = open_store(c, false);
  if (!store) return fail(store.status());
  cred::KeyInputs next;
  if (!c.new_key_file.empty()) {
    auto key = cred::read_key_file(c.new_key_file);
    if (!key) return fail(key.status());
    next.key = std::move(key).value();
  } else if (const char* pw = std::getenv(cred::kNewMasterPasswordEnv); pw != nullptr && *pw != '\0') {
    next.password = pw;
  } else if (stdin_is_tty()) {
    auto pw2 = prompt_new_password("new master password for " + c.store);
    if (!pw2) return fail(pw2.status());
    next.password = std::move(pw2).value();
  } else {
    return fail(std::string("no new key: set ") + cred::kNewMasterPasswordEnv + " or pass --new-key-file FILE",
                kExitUsage);
  }
  if (Status s = store->rekey(next, c.iterations); !s.is_ok()) return fail(s);
  if (Status s = store->save(); !s.is_ok()) return fail(s.message());
  std::cout << "rotated " << c.store << ": " << store->names().size() << " entries re-encrypted with a new "
            << (store->kdf() == cred::kKdfPbkdf2 ? "salt and key" : "key") << '\n';
  return kExitOk;
}

}  // namespace

bool CredsCommand::selected() const { return creds != nullptr && creds->parsed(); }

std::unique_ptr<CredsCommand> add_creds_command(CLI::App& app) {
  auto c = std::make_unique<CredsCommand>();
  c->creds = app.add_subcommand("creds", "The encrypted credential store: set, get, list, delete, rotate");
  c->creds->require_subcommand(1);
  const auto store_option = [&c](CLI::App* sub) {
    sub->add_option("--store", c->store, "credential store file (default ./data/credentials.enc)");
  };
  c->set = c->creds->add_subcommand("set", "Store a secret: the value from stdin, or a prompt on a terminal");
  c->set->add_option("name", c->name, "credential name ([A-Za-z0-9_.-]+)")->required();
  c->set->add_option("--iterations", c->iterations, "PBKDF2 iterations when creating the store (default 480000)")
      ->check(CLI::Range(cred::kMinIterations, cred::kMaxIterations));
  store_option(c->set);
  c->get = c->creds->add_subcommand("get", "Check that a secret exists; print it only with --show");
  c->get->add_option("name", c->name, "credential name")->required();
  c->get->add_flag("--show", c->show, "print the secret on stdout");
  store_option(c->get);
  c->list = c->creds->add_subcommand("list", "List the names in the store (no key needed)");
  store_option(c->list);
  c->del = c->creds->add_subcommand("delete", "Remove a secret");
  c->del->add_option("name", c->name, "credential name")->required();
  store_option(c->del);
  c->rotate = c->creds->add_subcommand(
      "rotate", "New master password (CONNECTOR_NEW_MASTER_PASSWORD or a prompt) or key file; every entry re-encrypted");
  c->rotate->add_option("--new-key-file", c->new_key_file, "switch the store to this Fernet key file");
  c->rotate->add_option("--iterations", c->iterations, "PBKDF2 iterations for the new key (default 480000)")
      ->check(CLI::Range(cred::kMinIterations, cred::kMaxIterations));
  store_option(c->rotate);
  return c;
}

int cmd_creds(const CredsCommand& c) {
  if (c.set->parsed()) return do_set(c);
  if (c.get->parsed()) return do_get(c);
  if (c.list->parsed()) return do_list(c);
  if (c.del->parsed()) return do_delete(c);
  if (c.rotate->parsed()) return do_rotate(c);
  return fail("no creds subcommand", kExitUsage);
}

}  // namespace uc::app
