// The opcua source as app/'s source table lists it: protocol "opcua", its options
// parser (config.h) and its builder. See pipeline/registration.h.
#pragma once

#include "pipeline/registration.h"

namespace uc::sources::opcua {

pipeline::SourceRegistration registration();

}  // namespace uc::sources::opcua
