#include "config/secret.h"

namespace uc::config {

CredentialResolver::~CredentialResolver() = default;

}  // namespace uc::config
