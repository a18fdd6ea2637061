// The mqtt source as app/'s source table lists it: protocol "mqtt", its options
// parser (config.h) and its builder. See pipeline/registration.h.
#pragma once

#include "pipeline/registration.h"

namespace uc::sources::mqtt {

pipeline::SourceRegistration registration();

}  // namespace uc::sources::mqtt
