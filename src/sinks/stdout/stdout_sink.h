// The stdout sink: JSON Lines on standard output, for `read` and debugging.
#pragma once

#include <cstdio>
#include <string>

#include "pipeline/sink.h"

namespace uc::sinks::stdout_sink {

class StdoutSink final : public pipeline::Sink {
 public:
  explicit StdoutSink(std::FILE* out = stdout) : out_(out) {}
  const std::string& name() const override { return name_; }
  Status start() override { return Status::ok(); }
  pipeline::WriteResult write(const std::vector<Record>& batch) override;
  void stop() override { std::fflush(out_); }

 private:
  std::FILE* out_;
  std::string name_ = "stdout";
  std::string buffer_;
};

}  // namespace uc::sinks::stdout_sink
