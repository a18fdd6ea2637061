#include "sinks/file/torn_tail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace uc::sinks::file {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

Status io_error(const std::string& what, const std::string& path, int e) {
  return {StatusCode::kUnavailable, what + " " + path + ": " + std::strerror(e)};
}

// Closes the descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// The length of the file's whole lines: one past its last '\n', 0 when it has none.
// Reads backwards from size in chunks, so a sound file costs one read of its last chunk.
Result<std::uint64_t> whole_lines_length(int fd, std::uint64_t size, const std::string& path) {
  std::string chunk(kChunk, '\0');
  std::uint64_t end = size;
  while (end > 0) {
    const std::uint64_t begin = end > kChunk ? end - kChunk : 0;
    const auto want = static_cast<std::size_t>(end - begin);
    const ssize_t n = ::pread(fd, chunk.data(), want, static_cast<off_t>(begin));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("read", path, errno);
    }
    if (static_cast<std::size_t>(n) != want) {
      return Status(StatusCode::kUnavailable, "read " + path + ": the file shrank while it was checked");
    }
    const auto* data = chunk.data();
    const void* nl = ::memrchr(data, '\n', want);
    if (nl != nullptr) return begin + static_cast<std::uint64_t>(static_cast<const char*>(nl) - data) + 1;
    end = begin;
  }
  return std::uint64_t{0};
}

}  // namespace

Result<std::uint64_t> cut_torn_tail(const std::string& path) {
  const Fd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return io_error("open", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return io_error("stat", path, errno);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size == 0) return std::uint64_t{0};
  Result<std::uint64_t> keep = whole_lines_length(fd.get(), size, path);
  if (!keep) return keep.status();
  if (*keep == size) return std::uint64_t{0};
  if (::ftruncate(fd.get(), static_cast<off_t>(*keep)) != 0) return io_error("truncate", path, errno);
  // Synced like a closed file, so a crash of the machine does not bring the torn line back.
  if (::fsync(fd.get()) != 0) return io_error("fsync", path, errno);
  return size - *keep;
}

TailRepair cut_torn_tails(const std::string& dir, const std::string& prefix, const std::string& suffix) {
  TailRepair out;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return out;
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() < prefix.size() + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix)) continue;
    std::error_code type_ec;
    if (it->is_symlink(type_ec) || !it->is_regular_file(type_ec)) continue;
    Result<std::uint64_t> cut = cut_torn_tail(it->path().string());
    if (!cut) {
      out.failures.push_back(cut.status());
    } else if (*cut > 0) {
      out.files_cut += 1;
      out.bytes_cut += *cut;
    }
  }
  if (ec) out.failures.emplace_back(StatusCode::kUnavailable, "list " + dir + ": " + ec.message());
  return out;
}

}  // namespace uc::sinks::file
