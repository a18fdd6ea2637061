#include "buffer/dlq.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/record_codec.h"

namespace uc::buffer {
namespace {

std::string safe_name(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == '/' || c == '\0') ? '_' : c;
  if (out.empty() || out == "." || out == "..") out = "default";
  return out;
}

bool base64_decode(std::string_view in, std::string* out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.size() % 4 != 0) return false;
  out->clear();
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in[i + static_cast<std::size_t>(k)];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else {
        if (pad > 0) return false;
        v[k] = val(c);
        if (v[k] < 0) return false;
      }
    }
    std::uint32_t n = (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
                      (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
    out->push_back(static_cast<char>((n >> 16) & 0xFF));
    if (pad < 2) out->push_back(static_cast<char>((n >> 8) & 0xFF));
    if (pad < 1) out->push_back(static_cast<char>(n & 0xFF));
  }
  return true;
}

Status io_error(const std::string& what, int e) {
  return {e == ENOSPC ? StatusCode::kResourceExhausted : StatusCode::kUnavailable,
          what + ": " + std::strerror(e)};
}

}  // namespace

Result<std::unique_ptr<DeadLetterQueue>> DeadLetterQueue::open(const std::string& directory,
                                                                const std::string& target) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return Status(StatusCode::kFailedPrecondition, "cannot create DLQ directory " + directory + ": " + ec.message());
  std::string path = (std::filesystem::path(directory) / (safe_name(target) + ".jsonl")).string();
  std::unique_ptr<DeadLetterQueue> q(new DeadLetterQueue(path, target));
  std::lock_guard lock(q->mu_);
  auto lines = q->read_lines_locked();
  if (!lines.is_ok()) return lines.status();
  q->count_ = lines->size();
  return q;
}

Result<std::vector<std::string>> DeadLetterQueue::read_lines_locked() const {
  std::vector<std::string> lines;
  std::ifstream in(path_);
  if (!in) {
    if (std::filesystem::exists(path_)) return Status(StatusCode::kUnavailable, "cannot read " + path_);
    return lines;
  }
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(std::move(line));
  }
  return lines;
}

Status DeadLetterQueue::add(const std::vector<const Record*>& records, const std::vector<std::string>& reasons,
                            std::int64_t now_us) {
  std::string buf;
  std::string proto;
  for (std::size_t i = 0; i < records.size(); ++i) {
    proto.clear();
    append_record_proto(proto, *records[i]);
    buf += "{\"time_us\":" + std::to_string(now_us) + ",\"target\":";
    append_json_string(buf, target_);
    buf += ",\"reason\":";
    append_json_string(buf, i < reasons.size() ? reasons[i] : std::string("rejected"));
    buf += ",\"record\":";
    append_record_json(buf, *records[i]);
    buf += ",\"proto\":\"";
    buf += base64_encode(reinterpret_cast<const std::uint8_t*>(proto.data()), proto.size());
    buf += "\"}\n";
  }
  std::lock_guard lock(mu_);
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("open " + path_, errno);
  off_t before = ::lseek(fd, 0, SEEK_END);
  std::size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::write(fd, buf.data() + done, buf.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      if (before >= 0 && ::ftruncate(fd, before) != 0) {
        // The torn tail is skipped as an unreadable line by list(); nothing else to do.
      }
      ::close(fd);
      return io_error("write " + path_, e);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd) != 0) {
    int e = errno;
    ::close(fd);
    return io_error("fdatasync " + path_, e);
  }
  ::close(fd);
  count_ += records.size();
  return Status::ok();
}

std::uint64_t DeadLetterQueue::count() const {
  std::lock_guard lock(mu_);
  return count_;
}

Result<std::vector<DlqEntry>> DeadLetterQueue::list(std::size_t offset, std::size_t limit) const {
  std::lock_guard lock(mu_);
  auto lines = read_lines_locked();
  if (!lines.is_ok()) return lines.status();
  std::vector<DlqEntry> out;
  for (std::size_t i = offset; i < lines->size() && out.size() < limit; ++i) {
    DlqEntry e;
    auto j = nlohmann::json::parse((*lines)[i], nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      e.reason = "unreadable DLQ line " + std::to_string(i + 1);
    } else {
      e.time_us = j.value("time_us", std::int64_t{0});
      e.target = j.value("target", std::string());
      e.reason = j.value("reason", std::string());
      if (j.contains("record")) e.record_json = j["record"].dump();
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::uint64_t> DeadLetterQueue::replay(const std::function<Status(std::vector<Record>&&)>& sink) {
  std::lock_guard replay_lock(replay_mu_);
  std::vector<std::string> lines;
  {
    std::lock_guard lock(mu_);
    auto read = read_lines_locked();
    if (!read.is_ok()) return read.status();
    lines = std::move(read).value();
  }
  std::vector<Record> records;
  std::vector<std::string> kept;  // lines that cannot be decoded stay in the DLQ
  RecordDecoder decoder;
  std::string wire;
  for (auto& line : lines) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    Record r;
    if (j.is_discarded() || !j.is_object() || !j.contains("proto") || !j["proto"].is_string() ||
        !base64_decode(j["proto"].get<std::string>(), &wire) || !decoder.decode(wire, r).is_ok()) {
      kept.push_back(std::move(line));
      continue;
    }
    records.push_back(std::move(r));
  }
  const std::uint64_t n = records.size();
  if (n == 0) return std::uint64_t{0};
  Status s = sink(std::move(records));
  if (!s.is_ok()) return s;

  std::lock_guard lock(mu_);
  // Entries added while sink ran follow the ones replayed: keep them.
  auto now = read_lines_locked();
  if (!now.is_ok()) return now.status();
  for (std::size_t i = lines.size(); i < now->size(); ++i) kept.push_back(std::move((*now)[i]));
  std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& l : kept) out << l << '\n';
    out.flush();
    if (!out) return Status(StatusCode::kUnavailable, "cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path_, ec);
  if (ec) return Status(StatusCode::kUnavailable, "cannot replace " + path_ + ": " + ec.message());
  count_ = kept.size();
  return n;
}

Result<std::uint64_t> DeadLetterQueue::purge() {
  std::lock_guard replay_lock(replay_mu_);
  std::lock_guard lock(mu_);
  std::uint64_t n = count_;
  std::error_code ec;
  std::filesystem::remove(path_, ec);
  if (ec) return Status(StatusCode::kUnavailable, "cannot remove " + path_ + ": " + ec.message());
  count_ = 0;
  return n;
}

}  // namespace uc::buffer
