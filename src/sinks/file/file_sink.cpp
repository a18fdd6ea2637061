#include "sinks/file/file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "core/record_codec.h"
#include "sinks/file/torn_tail.h"

namespace uc::sinks::file {
namespace {

// File names: <kPrefix><UTC start time>-<n><kSuffix>.
constexpr const char* kPrefix = "records-";
constexpr const char* kSuffix = ".jsonl";

std::string errno_text(int e) { return std::strerror(e); }

// Target names are table names (catalog.schema.table); keep them one path segment.
std::string safe_segment(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == '/' || c == '\0') ? '_' : c;
  if (out.empty() || out == "." || out == "..") out = "default";
  return out;
}

StatusCode code_for_errno(int e) {
  return (e == ENOSPC || e == EDQUOT) ? StatusCode::kResourceExhausted : StatusCode::kUnavailable;
}

}  // namespace

FileSink::FileSink(Options options, const Clock& clock) : options_(std::move(options)), clock_(clock) {
  dir_ = (std::filesystem::path(options_.directory) / safe_segment(options_.target)).string();
}

FileSink::~FileSink() { close_file(); }

Status FileSink::start() {
  // A directory that cannot be made now (unmounted disk, wrong permissions) is not fatal:
  // write() keeps answering "retry" until it can, so records wait in the buffer.
  Status s = open_new_file();
  if (!s.is_ok()) spdlog::warn("file sink: {} (will retry)", s.message());
  return Status::ok();
}

Status FileSink::open_new_file() {
  close_file();
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return {StatusCode::kUnavailable, "cannot create " + dir_ + ": " + ec.message()};
  if (!tails_checked_) cut_torn_lines();
  std::time_t now = static_cast<std::time_t>(clock_.now_us() / 1'000'000);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    // Zero-padded so that name order is write order.
    char seq[16];
    std::snprintf(seq, sizeof seq, "%06llu", static_cast<unsigned long long>(files_opened_ + 1 + attempt));
    std::string candidate = dir_ + "/" + kPrefix + stamp + "-" + seq + kSuffix;
    int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      fd_ = fd;
      path_ = candidate;
      size_ = 0;
      opened_at_us_ = clock_.now_us();
      files_opened_ += 1 + static_cast<std::uint64_t>(attempt);
      return Status::ok();
    }
    if (errno != EEXIST) {
      int e = errno;
      return {code_for_errno(e), "cannot create " + candidate + ": " + errno_text(e)};
    }
  }
  return {StatusCode::kUnavailable, "cannot find a free file name in " + dir_};
}

void FileSink::cut_torn_lines() {
  const TailRepair r = cut_torn_tails(dir_, kPrefix, kSuffix);
  for (const Status& f : r.failures) spdlog::warn("file sink: cannot check for a torn last line: {}", f.message());
  if (r.files_cut > 0) {
    spdlog::warn("file sink: cut a torn last line from {} file(s) in {} ({} bytes); its records were not "
                 "acknowledged and are written again",
                 r.files_cut, dir_, r.bytes_cut);
  }
  tails_checked_ = true;
}

void FileSink::close_file() {
  if (fd_ < 0) return;
  ::fsync(fd_);
  ::close(fd_);
  fd_ = -1;
}

pipeline::WriteResult FileSink::write(const std::vector<Record>& batch) {
  buffer_.clear();
  std::vector<pipeline::Rejection> rejected;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::size_t before = buffer_.size();
    append_record_json(buffer_, batch[i]);
    buffer_ += '\n';
    const std::size_t line = buffer_.size() - before;
    if (line > options_.max_record_bytes) {
      buffer_.resize(before);
      rejected.push_back({i, "record is " + std::to_string(line) + " bytes as JSON, over sinks.file.max_record_bytes (" +
                                 std::to_string(options_.max_record_bytes) + ")"});
    }
  }
  const bool too_big = options_.rotate_bytes > 0 && size_ > 0 && size_ + buffer_.size() > options_.rotate_bytes;
  const bool too_old = options_.rotate_interval.count() > 0 &&
                       clock_.now_us() - opened_at_us_ >= options_.rotate_interval.count() * 1'000'000;
  if (fd_ < 0 || too_big || (too_old && size_ > 0)) {
    Status s = open_new_file();
    if (!s.is_ok()) return pipeline::WriteResult::retry(s);
  }
  std::size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      // Cut back to the last whole line so a retry does not leave a torn record.
      // If that fails too, the file is checked again before the next one is opened.
      if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
        close_file();
        tails_checked_ = false;
      }
      return pipeline::WriteResult::retry({code_for_errno(e), "write " + path_ + ": " + errno_text(e)});
    }
    done += static_cast<std::size_t>(n);
  }
  if (options_.fsync && ::fdatasync(fd_) != 0) {
    int e = errno;
    return pipeline::WriteResult::retry({code_for_errno(e), "fdatasync " + path_ + ": " + errno_text(e)});
  }
  size_ += buffer_.size();
  return rejected.empty() ? pipeline::WriteResult::delivered() : pipeline::WriteResult::partial(std::move(rejected));
}

void FileSink::stop() { close_file(); }

}  // namespace uc::sinks::file
