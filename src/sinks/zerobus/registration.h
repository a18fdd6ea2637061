// The zerobus sink as app/'s sink table lists it (pipeline/registration.h).
#pragma once

#include "pipeline/registration.h"

namespace uc::sinks::zerobus {

pipeline::SinkRegistration registration();

}  // namespace uc::sinks::zerobus
