#include "sinks/stdout/stdout_sink.h"

#include <cerrno>
#include <cstring>

#include "core/record_codec.h"

namespace uc::sinks::stdout_sink {

pipeline::WriteResult StdoutSink::write(const std::vector<Record>& batch) {
  buffer_.clear();
  for (const auto& r : batch) {
    append_record_json(buffer_, r);
    buffer_ += '\n';
  }
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), out_) != buffer_.size() || std::fflush(out_) != 0) {
    // A closed pipe will not come back: reject rather than retry forever.
    return pipeline::WriteResult::retry({StatusCode::kFailedPrecondition, std::string("stdout: ") + std::strerror(errno)});
  }
  return pipeline::WriteResult::delivered();
}

}  // namespace uc::sinks::stdout_sink
