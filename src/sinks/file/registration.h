// The file sink as app/'s sink table lists it (pipeline/registration.h).
#pragma once

#include "pipeline/registration.h"

namespace uc::sinks::file {

pipeline::SinkRegistration registration();

}  // namespace uc::sinks::file
