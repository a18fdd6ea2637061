// Secrets in the configuration and the seam to the credential store (SPEC §8).
#pragma once

#include <string>

#include "core/status.h"

namespace uc::config {

// The value of a key that holds a secret (passwords, tokens, client secrets).
//
// - written in plain text or as ${env:NAME}: value is set, reference empty, resolved.
// - written as ${credential:NAME}: reference = NAME; value is filled and resolved
//   is true only when a CredentialResolver was given to the loader. Without one the
//   secret stays unresolved and that is not an error: the store is opened later.
// - absent: everything empty, resolved.
//
// A credential reference must be the whole value ("${credential:x}", not
// "Bearer ${credential:x}"). The value never appears in error messages.
struct Secret {
  std::string value;
  std::string reference;
  bool resolved = true;

  // True when the key was given a non-empty value or a reference.
  bool is_set() const { return !value.empty() || !reference.empty(); }
};

// Looks up a named credential in the store. Implemented by the credentials
// module; the loader only sees this interface.
class CredentialResolver {
 public:
  virtual ~CredentialResolver();
  // The secret's value, or a Status (NOT_FOUND, PERMISSION_DENIED, ...) whose
  // message must not contain secret material.
  virtual Result<std::string> resolve(const std::string& name) const = 0;
};

}  // namespace uc::config
