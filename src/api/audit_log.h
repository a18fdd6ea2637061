// The API's audit log: one JSON line per mutating request (POST, PUT, PATCH, DELETE),
// appended to a file: {"time": "2026-12-07T23:59:00.123Z", "client": "127.0.0.1",
// "method": "PUT", "path": "/api/sources/plc1", "status": 200}. Never the body, the query
// or a header: nothing secret can land there. Requests refused before routing (401, 404)
// are recorded too: they are what an auditor looks for.
//
// The file is opened once (O_APPEND, mode 0600, created with its directory) and each line
// is one write(), so lines from concurrent requests never interleave. A write that fails is
// counted (failures()) and logged once per minute; the request is not affected.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/status.h"

namespace uc::api {

class AuditLog {
 public:
  // FAILED_PRECONDITION naming the path when it cannot be opened for appending.
  static Result<std::unique_ptr<AuditLog>> open(const std::string& path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  static bool is_mutating(std::string_view method);
  void record(std::int64_t time_us, std::string_view client, std::string_view method, std::string_view path,
              int status);
  std::uint64_t failures() const { return failures_.load(); }
  const std::string& path() const { return path_; }

 private:
  AuditLog(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
  std::atomic<std::uint64_t> failures_{0};
  std::mutex mu_;
  std::int64_t last_complaint_us_ = 0;
};

}  // namespace uc::api
