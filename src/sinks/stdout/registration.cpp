#include "sinks/stdout/registration.h"

#include "sinks/stdout/stdout_sink.h"

namespace uc::sinks::stdout_sink {
namespace {

// Batches as the file sink's: stdout is its console twin (`read`, debugging).
class StdoutSinks final : public pipeline::SinkSet {
 public:
  explicit StdoutSinks(const config::Config& cfg) : batch_(cfg.sinks.file.batch) {}
  Result<std::unique_ptr<pipeline::Sink>> build(const std::string& /*target*/) override {
    return std::unique_ptr<pipeline::Sink>(std::make_unique<StdoutSink>());
  }
  const config::BatchConfig& batch() const override { return batch_; }

 private:
  config::BatchConfig batch_;
};

}  // namespace

pipeline::SinkRegistration registration() {
  return {"stdout", "sinks.stdout.enabled", [](const config::Config& cfg) { return cfg.sinks.stdout_sink.enabled; },
          [](const config::Config& cfg) -> Result<std::unique_ptr<pipeline::SinkSet>> {
            return std::unique_ptr<pipeline::SinkSet>(std::make_unique<StdoutSinks>(cfg));
          }};
}

}  // namespace uc::sinks::stdout_sink
