// The stdout sink as app/'s sink table lists it (pipeline/registration.h).
#pragma once

#include "pipeline/registration.h"

namespace uc::sinks::stdout_sink {

pipeline::SinkRegistration registration();

}  // namespace uc::sinks::stdout_sink
