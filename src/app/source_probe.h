// A one-shot read of one source beside the running connector, as the `read` command does
// it (POST /api/sources/{name}/test and POST /api/sources/test, api/source_routes.h).
//
// The source is built anew from its configuration (with the protocol's probe_options, so
// that its connection does not disturb the running one: pipeline/registration.h) and run
// in a private pipeline of its own: one memory-only lane whose sink only collects the
// normalized records. Nothing reaches the connector's sinks, spool, DLQ, metrics or path
// registry. It opens its own connection to the device: a Modbus server and an OPC UA
// server accept several; an MQTT broker gets another client id; a device that accepts a
// single connection answers the test with its error while the running source keeps its
// connection (documented in docs/observability.md).
//
// Threads: run() blocks the calling thread (an API worker) for at most the timeout plus
// the source's stop; at most api::SourceControl::kMaxConcurrentTests run at once.
#pragma once

#include "api/source_routes.h"
#include "config/config.h"
#include "normalize/normalizer.h"

namespace uc::app {

// Outcome as api::SourceControl::test documents it. The view: {"source", "protocol",
// "config" (secrets masked: what was tried), "records", "count", "complete", "elapsed_ms",
// "state", "last_error"}.
api::SourceControl::Change probe_source(const config::SourceConfig& source, const normalize::Options& norm,
                                        const api::SourceControl::TestLimits& limits);

}  // namespace uc::app
