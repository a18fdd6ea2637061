// ${env:NAME} and ${credential:NAME} in scalar values (SPEC §8).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace uc::config {

// Looks up an environment variable; nullopt when it is not set. Injected so that
// tests need not touch the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// getenv(3).
EnvLookup process_environment();

// Replaces every ${env:NAME} in text (anywhere, any number of times); "$${" is a
// literal "${". NAME is [A-Za-z_][A-Za-z0-9_]*.
//
// ${credential:NAME} is not expanded here: credential references are only allowed
// as the whole value of a secret field, which the reader recognises with
// whole_credential_reference() before calling this. Anywhere else it is an error
// ("credential references are only allowed in secret fields") so that a secret can
// never flow into a field whose value may be echoed in messages or logs. Any other
// ${kind:...} form is an error too. Errors are INVALID_ARGUMENT with a message
// that names what was wrong but never the value of a variable.
Result<std::string> substitute_env(std::string_view text, const EnvLookup& env);

// If text is exactly "${credential:NAME}", NAME; otherwise nullopt.
std::optional<std::string> whole_credential_reference(std::string_view text);

// True for a valid credential name: [A-Za-z0-9_.-]+.
bool is_valid_credential_name(std::string_view name);

}  // namespace uc::config
