// The synthetic source as app/'s source table lists it: protocol "synthetic", its options
// parser (config.h) and its builder. See pipeline/registration.h.
#pragma once

#include "pipeline/registration.h"

namespace uc::sources::synthetic {

pipeline::SourceRegistration registration();

}  // namespace uc::sources::synthetic
