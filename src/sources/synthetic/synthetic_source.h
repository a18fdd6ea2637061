// The synthetic source: emits one sample of every tag per interval on its own thread.
// Publishing blocks under backpressure, so a slow sink slows the generator instead of
// losing data; the per-tag "seq" metadata lets tests prove that nothing was lost.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "pipeline/source.h"
#include "sources/synthetic/generator.h"

namespace uc::sources::synthetic {

class SyntheticSource final : public pipeline::Source {
 public:
  SyntheticSource(std::string name, Options options);
  ~SyntheticSource() override;

  const std::string& name() const override { return name_; }
  Status start(pipeline::Emitter& emitter) override;
  void stop() override;

 private:
  void run(pipeline::Emitter& emitter);

  std::string name_;
  Options options_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace uc::sources::synthetic
