#include "api/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "api/http.h"
#include "telemetry/log.h"

namespace uc::api {

namespace {

std::string utc_text(std::int64_t time_us) {
  const std::time_t seconds = static_cast<std::time_t>(time_us / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char ms[8];
  std::snprintf(ms, sizeof(ms), ".%03dZ", static_cast<int>((time_us / 1000) % 1000));
  return std::string(buf, n) + ms;
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& path) {
  std::error_code ec;
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot open the API audit log " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<AuditLog>(new AuditLog(path, fd));
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

bool AuditLog::is_mutating(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

void AuditLog::record(std::int64_t time_us, std::string_view client, std::string_view method, std::string_view path,
                      int status) {
  const std::string line = dump_json({{"time", utc_text(time_us)},
                                      {"client", std::string(client)},
                                      {"method", std::string(method)},
                                      {"path", std::string(path)},
                                      {"status", status}}) +
                           "\n";
  std::lock_guard lock(mu_);
  if (::write(fd_, line.data(), line.size()) == static_cast<ssize_t>(line.size())) return;
  failures_.fetch_add(1);
  if (time_us - last_complaint_us_ >= 60'000'000) {
    last_complaint_us_ = time_us;
    telemetry::get_logger("api")->error("cannot write the audit log {} {}", telemetry::kv("path", path_),
                                        telemetry::kv("error", std::strerror(errno)));
  }
}

}  // namespace uc::api
