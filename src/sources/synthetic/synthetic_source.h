// The synthetic source: emits one sample of every tag per interval on the source
// runtime's thread. Publishing blocks under backpressure, so a slow sink slows the
// generator instead of losing data; the per-tag "seq" metadata lets tests prove that
// nothing was lost.
#pragma once

#include "pipeline/source.h"
#include "sources/synthetic/generator.h"

namespace uc::sources::synthetic {

class SyntheticSource final : public pipeline::Source {
 public:
  SyntheticSource(std::string name, Options options);

  const std::string& name() const override { return name_; }
  void run(pipeline::SourceContext& ctx) override;

 private:
  std::string name_;
  Options options_;
};

}  // namespace uc::sources::synthetic
