// The modbus source as app/'s source table lists it: protocol "modbus", its options
// parser (config.h) and its builder. See pipeline/registration.h.
#pragma once

#include "pipeline/registration.h"

namespace uc::sources::modbus {

pipeline::SourceRegistration registration();

}  // namespace uc::sources::modbus
