#include "sinks/file/registration.h"

#include "sinks/file/config.h"

namespace uc::sinks::file {
namespace {

class FileSinks final : public pipeline::SinkSet {
 public:
  explicit FileSinks(const config::Config& cfg) : cfg_(cfg) {}
  Result<std::unique_ptr<pipeline::Sink>> build(const std::string& target) override {
    return std::unique_ptr<pipeline::Sink>(std::make_unique<FileSink>(options_from(cfg_, target), SystemClock::instance()));
  }
  const config::BatchConfig& batch() const override { return cfg_.sinks.file.batch; }

 private:
  config::Config cfg_;
};

}  // namespace

pipeline::SinkRegistration registration() {
  return {"file", "sinks.file.enabled", [](const config::Config& cfg) { return cfg.sinks.file.enabled; },
          [](const config::Config& cfg) -> Result<std::unique_ptr<pipeline::SinkSet>> {
            return std::unique_ptr<pipeline::SinkSet>(std::make_unique<FileSinks>(cfg));
          }};
}

}  // namespace uc::sinks::file
