#include "buffer/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <system_error>

#include "buffer/crc32c.h"
#include "buffer/spool_format.h"

namespace uc::buffer {

using namespace format;  // NOLINT(google-build-using-namespace): the module's own format constants

namespace {

constexpr std::size_t kReadChunk = 1u << 20;
constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();

std::string errno_text(int e) { return std::generic_category().message(e); }

Status io_status(const std::string& what, int e) {
  std::string msg = what + ": " + errno_text(e);
  if (e == ENOSPC || e == EDQUOT) return {StatusCode::kResourceExhausted, std::move(msg)};
  if (e == EACCES || e == EPERM || e == EROFS) return {StatusCode::kPermissionDenied, std::move(msg)};
  return unavailable(std::move(msg));
}

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};
using FdPtr = std::shared_ptr<Fd>;

int datasync(int fd) { return ::fdatasync(fd) == 0 ? 0 : errno; }

int pwrite_all(int fd, const char* p, std::size_t n, std::uint64_t off) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (w == 0) return EIO;
    p += w;
    n -= static_cast<std::size_t>(w);
    off += static_cast<std::uint64_t>(w);
  }
  return 0;
}

int pread_all(int fd, char* p, std::size_t n, std::uint64_t off, std::size_t* got) {
  *got = 0;
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (r == 0) break;
    p += r;
    n -= static_cast<std::size_t>(r);
    off += static_cast<std::uint64_t>(r);
    *got += static_cast<std::size_t>(r);
  }
  return 0;
}

std::string segment_name(std::uint64_t first_seq) {
  char name[64];
  std::snprintf(name, sizeof name, "seg-%020" PRIu64 ".log", first_seq);
  return name;
}

// A cached window over one file, limited to [0, limit): frames are parsed from it
// without a syscall per record.
struct ReadCache {
  std::uint64_t key = kNone;  // which segment the bytes belong to
  std::uint64_t off = 0;
  std::vector<char> data;
  void invalidate() {
    key = kNone;
    data.clear();
  }
};

class FileWindow {
 public:
  FileWindow(int fd, std::uint64_t key, std::uint64_t limit, ReadCache& cache)
      : fd_(fd), key_(key), limit_(limit), c_(cache) {}

  std::uint64_t limit() const { return limit_; }
  int error() const { return err_; }

  // Bytes [off, off+n), or nullptr when they pass the limit or cannot be read (error()).
  const char* get(std::uint64_t off, std::size_t n) {
    if (off > limit_ || n > limit_ - off) return nullptr;
    if (c_.key == key_ && off >= c_.off && off + n <= c_.off + c_.data.size()) {
      return c_.data.data() + (off - c_.off);
    }
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(std::max(n, kReadChunk), limit_ - off));
    c_.data.resize(want);
    std::size_t got = 0;
    const int e = pread_all(fd_, c_.data.data(), want, off, &got);
    if (e != 0 || got < n) {
      err_ = e != 0 ? e : EIO;
      c_.invalidate();
      return nullptr;
    }
    c_.data.resize(got);
    c_.key = key_;
    c_.off = off;
    return c_.data.data();
  }

 private:
  int fd_;
  std::uint64_t key_;
  std::uint64_t limit_;
  ReadCache& c_;
  int err_ = 0;
};

struct ScanResult {
  enum Kind { kRecord, kEnd, kTail, kIoError } kind = kEnd;
  std::uint64_t offset = 0;   // of the record (kRecord) or of the unreadable bytes (kTail)
  std::uint64_t seq = 0;
  std::uint32_t len = 0;
  const char* payload = nullptr;  // valid until the window is used again
  bool resynced = false;          // bytes between the start position and `offset` were skipped
};

// Whether a whole valid frame with lo <= seq <= hi starts at q.
bool frame_at(FileWindow& w, std::uint64_t q, std::uint64_t lo, std::uint64_t hi, std::uint32_t max_len,
              ScanResult& r) {
  const char* h = w.get(q, kFrameHeader);
  if (h == nullptr) return false;
  const std::uint32_t len = get32(h);
  const std::uint64_t seq = get64(h + 8);
  if (len > max_len || seq < lo || seq > hi) return false;
  if (q + kFrameHeader + len > w.limit()) return false;
  const char* f = w.get(q, kFrameHeader + len);
  if (f == nullptr) return false;
  if (crc32c(f + 8, 8 + std::size_t{len}) != get32(f + 4)) return false;
  r.kind = ScanResult::kRecord;
  r.offset = q;
  r.seq = seq;
  r.len = len;
  r.payload = f + kFrameHeader;
  return true;
}

// The next record at or after `pos`. At `pos` itself any seq in [expected, hi] with a
// good CRC is accepted. Otherwise the frame at `pos` is damaged: try the end of its
// declared length, then every byte, for a valid frame whose seq fits the gap (each
// skipped record took at least one frame header of bytes).
ScanResult scan_next(FileWindow& w, std::uint64_t pos, std::uint64_t expected, std::uint64_t hi,
                     std::uint32_t max_len) {
  ScanResult r;
  if (pos >= w.limit()) return r;  // kEnd
  if (frame_at(w, pos, expected, hi, max_len, r)) return r;
  if (w.error() != 0) return {ScanResult::kIoError, pos};
  r.resynced = true;
  if (const char* h = w.get(pos, kFrameHeader)) {
    const std::uint32_t len = get32(h);
    if (len <= max_len && pos + kFrameHeader + len < w.limit()) {
      if (frame_at(w, pos + kFrameHeader + len, expected, expected + 1, max_len, r)) {
        r.resynced = true;
        return r;
      }
    }
  }
  for (std::uint64_t q = pos + 1; q + kFrameHeader <= w.limit(); ++q) {
    if (frame_at(w, q, expected, expected + (q - pos) / kFrameHeader, max_len, r)) {
      r.resynced = true;
      return r;
    }
    if (w.error() != 0) return {ScanResult::kIoError, pos};
  }
  r.kind = ScanResult::kTail;
  r.offset = pos;
  return r;
}

struct Segment {
  std::uint64_t first_seq = 0;  // from the header (or the name when the header is bad)
  std::uint64_t last_seq = 0;   // last readable seq; first_seq - 1 when none
  std::uint64_t size = 0;       // bytes on disk
  std::uint64_t end = 0;        // end of the last whole frame (readers stop here)
  std::string path;
  FdPtr fd;
  bool has_records() const { return last_seq >= first_seq; }
};

// A position in the log: the frame at or after (segment first_seq, offset) is the
// first one with seq >= next_seq.
struct Cursor {
  std::uint64_t seg = 0;
  std::uint64_t offset = 0;
  std::uint64_t next_seq = 1;
};

struct InFlight {
  std::uint64_t seq;
  std::uint64_t seg;
  std::uint64_t end;  // offset just past the record
};

struct LedgerState {
  bool found = false;  // a valid slot was read
  std::uint64_t generation = 0;
  std::uint64_t acked = 0;
  std::uint64_t read = 0;
  std::uint64_t durable = 0;
  std::uint64_t next = 0;
};

}  // namespace

const char* fsync_policy_name(FsyncPolicy p) {
  switch (p) {
    case FsyncPolicy::kBatch: return "batch";
    case FsyncPolicy::kInterval: return "interval";
    case FsyncPolicy::kNever: return "never";
  }
  return "?";
}

struct Spool::State {
  SpoolOptions opt;
  const Clock* clock = nullptr;
  RecoveryReport report;
  FdPtr lock_fd;
  FdPtr dir_fd;
  FdPtr ledger_fd;

  // Lock order: append_mu, then ledger_mu, then mu. fdatasync of data runs under
  // append_mu only; of the ledger under ledger_mu only.
  std::mutex append_mu;  // one appender (or dropper) at a time; guards wbuf
  std::mutex ledger_mu;  // serializes ledger writes
  mutable std::mutex mu;  // guards everything below

  std::deque<Segment> segs;  // ordered by first_seq
  bool active = false;       // segs.back() takes appends
  std::uint64_t bytes = 0;
  std::uint64_t next_seq = 1;
  std::uint64_t acked = 0;
  std::uint64_t durable = 0;
  std::uint64_t read_max = 0;  // highest seq ever handed out (ledger "read seq")
  std::uint64_t ledger_gen = 0;
  bool ledger_dirty = false;  // written, not yet synced
  std::int64_t last_sync_us = 0;
  std::uint64_t corrupt = 0;
  std::uint64_t counted_through = 0;  // gaps below this were counted already
  std::map<std::uint64_t, std::uint64_t> holes;  // [lo, hi] seqs above `acked` that hold no record
  Cursor read_cur;
  Cursor ack_cur;
  std::deque<InFlight> inflight;  // read since the last rewind, not acked
  ReadCache cache;
  std::string wbuf;

  // ---- helpers; callers hold mu unless stated ----

  std::uint64_t holes_in(std::uint64_t after, std::uint64_t upto) const {
    std::uint64_t n = 0;
    for (const auto& [lo, hi] : holes) {
      const std::uint64_t a = std::max(lo, after + 1);
      const std::uint64_t b = std::min(hi, upto);
      if (a <= b) n += b - a + 1;
    }
    return n;
  }
  std::uint64_t present_after(std::uint64_t after) const {
    const std::uint64_t last = next_seq - 1;
    if (last <= after) return 0;
    return (last - after) - holes_in(after, last);
  }
  void add_hole(std::uint64_t lo, std::uint64_t hi) {
    if (lo > hi) return;
    auto& h = holes[lo];
    h = std::max(h, hi);
  }
  void trim_holes() {
    for (auto it = holes.begin(); it != holes.end();) {
      if (it->second <= acked) {
        it = holes.erase(it);
      } else {
        if (it->first <= acked) {
          const std::uint64_t hi = it->second;
          holes.erase(it);
          holes[acked + 1] = std::max(holes[acked + 1], hi);
          break;
        }
        ++it;
      }
    }
  }

  // Index of the segment holding cursor c, normalized: a deleted segment moves c to the
  // start of the next one. kNpos when no segment is at or after it.
  static constexpr std::size_t kNpos = std::numeric_limits<std::size_t>::max();
  std::size_t resolve(Cursor& c) {
    auto it = std::lower_bound(segs.begin(), segs.end(), c.seg,
                               [](const Segment& s, std::uint64_t k) { return s.first_seq < k; });
    if (it == segs.end()) return kNpos;
    if (it->first_seq != c.seg) {
      c.seg = it->first_seq;
      c.offset = kSegHeader;
    }
    if (c.offset < kSegHeader) c.offset = kSegHeader;
    return static_cast<std::size_t>(it - segs.begin());
  }
  bool is_last(std::size_t i) const { return i + 1 == segs.size(); }

  // Counts records [from, to] as lost to corruption unless already counted or acked.
  void count_lost(std::uint64_t from, std::uint64_t to) {
    from = std::max({from, acked + 1, counted_through + 1});
    if (from > to) return;
    corrupt += to - from + 1;
    counted_through = to;
    add_hole(from, to);
  }

  // Advances c by one record. kEnd: nothing more is committed.
  ScanResult step(Cursor& c, Status& io) {
    while (true) {
      const std::size_t i = resolve(c);
      if (i == kNpos) return {};
      const Segment* s = &segs[i];
      if (c.offset >= s->end) {
        if (is_last(i)) return {};
        const Segment& next = segs[i + 1];
        count_lost(std::max(c.next_seq, s->last_seq + 1), next.first_seq - 1);
        c.next_seq = std::max(c.next_seq, next.first_seq);
        c.seg = next.first_seq;
        c.offset = kSegHeader;
        continue;
      }
      FileWindow w(s->fd->fd, s->first_seq, s->end, cache);
      ScanResult r = scan_next(w, c.offset, c.next_seq, std::max(s->last_seq, c.next_seq), opt.max_record_bytes);
      if (r.kind == ScanResult::kIoError) {
        io = unavailable("spool " + opt.directory + ": reading " + s->path + ": " + errno_text(w.error()));
        return r;
      }
      if (r.kind == ScanResult::kTail) {
        count_lost(c.next_seq, s->last_seq);
        c.offset = s->end;
        c.next_seq = std::max(c.next_seq, s->last_seq + 1);
        continue;
      }
      if (r.kind == ScanResult::kEnd) continue;  // offset reached end
      if (r.seq > c.next_seq) count_lost(c.next_seq, r.seq - 1);
      c.offset = r.offset + kFrameHeader + r.len;
      c.next_seq = r.seq + 1;
      return r;
    }
  }

  // Front segments whose records are all acked (never the active one), removed from the
  // table. The caller makes the ledger durable, then unlinks them.
  std::vector<std::string> take_acked_segments() {
    std::vector<std::string> gone;
    while (!segs.empty()) {
      const Segment& s = segs.front();
      if (active && segs.size() == 1) break;
      if (s.has_records() ? s.last_seq > acked : s.first_seq > acked + 1) break;
      gone.push_back(s.path);
      bytes -= s.size;
      segs.pop_front();
    }
    if (!gone.empty()) cache.invalidate();
    return gone;
  }

  // Writes the current positions to the next ledger slot; fdatasync when `sync`.
  // Takes ledger_mu and mu; call with neither held.
  Status write_ledger(bool sync) {
    std::lock_guard lg(ledger_mu);
    char slot[kSlotSize];
    std::uint64_t gen;
    {
      std::lock_guard l(mu);
      gen = ++ledger_gen;
      encode_ledger_slot(slot, gen, acked, read_max, durable, next_seq);
      ledger_dirty = !sync;
    }
    int e = pwrite_all(ledger_fd->fd, slot, kSlotSize, kSlotOffset[gen % 2]);
    if (e == 0 && sync) e = datasync(ledger_fd->fd);
    if (e != 0) {
      std::lock_guard l(mu);
      ledger_dirty = true;
      return io_status("spool " + opt.directory + ": writing the ledger", e);
    }
    return Status::ok();
  }

  void unlink_all(const std::vector<std::string>& paths) {
    for (const auto& p : paths) ::unlink(p.c_str());
  }

  Status delete_acked() {
    std::vector<std::string> gone;
    {
      std::lock_guard l(mu);
      gone = take_acked_segments();
    }
    if (gone.empty()) return Status::ok();
    Status s = write_ledger(true);
    if (!s.is_ok()) return s;  // keep the files: recovery deletes them once the ledger is durable
    unlink_all(gone);
    return Status::ok();
  }

  // fdatasync the active segment (or all: flush) and the ledger. Takes no lock on entry.
  Status sync_now(bool all) {
    std::vector<FdPtr> fds;
    std::uint64_t mark;
    {
      std::lock_guard l(mu);
      mark = next_seq - 1;
      if (all) {
        for (const auto& s : segs) fds.push_back(s.fd);
      } else if (active && !segs.empty() && durable < mark) {
        fds.push_back(segs.back().fd);
      }
      last_sync_us = clock->steady_us();
    }
    for (const auto& f : fds) {
      if (const int e = datasync(f->fd); e != 0) return io_status("spool " + opt.directory + ": fdatasync", e);
    }
    bool need_ledger;
    {
      std::lock_guard l(mu);
      const bool moved = durable < mark;
      durable = std::max(durable, mark);
      need_ledger = ledger_dirty || moved || all;
    }
    return need_ledger ? write_ledger(true) : Status::ok();
  }

  // Closes the active segment (synced unless kNever) and creates seg-<first>.log.
  // Caller holds append_mu only.
  Status roll(std::uint64_t first) {
    FdPtr old;
    std::uint64_t old_last = 0;
    {
      std::lock_guard l(mu);
      if (active) {
        old = segs.back().fd;
        old_last = segs.back().last_seq;
      }
    }
    if (old && opt.fsync != FsyncPolicy::kNever) {
      if (const int e = datasync(old->fd); e != 0) return io_status("spool " + opt.directory + ": fdatasync", e);
      std::lock_guard l(mu);
      durable = std::max(durable, old_last);
    }
    {
      std::lock_guard l(mu);
      active = false;
    }
    const std::string path = opt.directory + "/" + segment_name(first);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return io_status("spool " + opt.directory + ": creating " + path, errno);
    auto f = std::make_shared<Fd>(fd);
    char header[kSegHeader];
    encode_segment_header(header, first);
    int e = pwrite_all(fd, header, kSegHeader, 0);
    if (e == 0 && opt.fsync != FsyncPolicy::kNever) {
      e = datasync(fd);
      if (e == 0) e = ::fsync(dir_fd->fd) == 0 ? 0 : errno;
    }
    if (e != 0) {
      ::unlink(path.c_str());
      return io_status("spool " + opt.directory + ": creating " + path, e);
    }
    std::lock_guard l(mu);
    Segment s;
    s.first_seq = first;
    s.last_seq = first - 1;
    s.size = s.end = kSegHeader;
    s.path = path;
    s.fd = std::move(f);
    segs.push_back(std::move(s));
    bytes += kSegHeader;
    active = true;
    return Status::ok();
  }

  Status recover();
};

Spool::Spool(std::unique_ptr<State> state) : s_(std::move(state)) {}
Spool::~Spool() = default;

const RecoveryReport& Spool::recovery() const { return s_->report; }
const SpoolOptions& Spool::options() const { return s_->opt; }

Result<std::unique_ptr<Spool>> Spool::open(const SpoolOptions& options, const Clock& clock) {
  if (options.directory.empty()) return invalid_argument("spool: directory is empty");
  if (options.segment_bytes < kSegHeader + kFrameHeader) {
    return invalid_argument("spool: segment_bytes must be at least " + std::to_string(kSegHeader + kFrameHeader));
  }
  if (options.max_bytes < options.segment_bytes) {
    return invalid_argument("spool: max_bytes (" + std::to_string(options.max_bytes) +
                            ") must be at least segment_bytes (" + std::to_string(options.segment_bytes) + ")");
  }
  if (options.max_record_bytes == 0 || options.max_record_bytes > (1u << 30)) {
    return invalid_argument("spool: max_record_bytes must be between 1 and 2^30");
  }
  if (options.fsync_interval.count() < 0) return invalid_argument("spool: fsync_interval is negative");

  auto st = std::make_unique<State>();
  st->opt = options;
  while (st->opt.directory.size() > 1 && st->opt.directory.back() == '/') st->opt.directory.pop_back();
  st->clock = &clock;
  const std::string& dir = st->opt.directory;

  struct stat sb{};
  if (::stat(dir.c_str(), &sb) == 0) {
    if (!S_ISDIR(sb.st_mode)) {
      return Status(StatusCode::kFailedPrecondition, "spool path " + dir + " exists and is not a directory");
    }
  } else if (errno == ENOENT) {
    // Create missing parents too.
    for (std::size_t i = 1; i <= dir.size(); ++i) {
      if (i == dir.size() || dir[i] == '/') {
        const std::string part = dir.substr(0, i);
        if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
          return io_status("spool: cannot create directory " + part, errno);
        }
      }
    }
    if (::stat(dir.c_str(), &sb) != 0 || !S_ISDIR(sb.st_mode)) {
      return Status(StatusCode::kFailedPrecondition, "spool path " + dir + " is not a directory");
    }
  } else {
    return io_status("spool: cannot access " + dir, errno);
  }

  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return io_status("spool: cannot open directory " + dir, errno);
  st->dir_fd = std::make_shared<Fd>(dfd);

  const std::string lock_path = dir + "/" + kLockName;
  const int lfd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lfd < 0) return io_status("spool: cannot open lock file " + lock_path, errno);
  st->lock_fd = std::make_shared<Fd>(lfd);
  if (::flock(lfd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Status(StatusCode::kFailedPrecondition,
                    "spool " + dir + " is in use by another process (" + lock_path + " is locked)");
    }
    return io_status("spool: cannot lock " + lock_path, errno);
  }

  if (Status s = st->recover(); !s.is_ok()) return s;
  return std::unique_ptr<Spool>(new Spool(std::move(st)));
}

Status Spool::State::recover() {
  const std::string& dir = opt.directory;
  RecoveryReport& rep = report;
  auto note = [&rep](std::string n) { rep.notes.push_back(std::move(n)); };

  // 1. What is in the directory.
  std::map<std::uint64_t, std::string> seg_files;  // name seq -> path
  bool ledger_exists = false;
  {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return io_status("spool: cannot list " + dir, errno);
    while (const dirent* ent = ::readdir(d)) {
      const std::string name = ent->d_name;
      if (name == "." || name == "..") continue;
      if (name == kLockName) continue;
      if (name == kLedgerName) {
        ledger_exists = true;
        continue;
      }
      if (auto seq = parse_segment_name(name)) {
        seg_files[*seq] = dir + "/" + name;
        continue;
      }
      if (name.size() > 8 && name.ends_with(".corrupt")) {
        note("file " + name + " was set aside by an earlier recovery; it is ignored (inspect or delete it)");
        continue;
      }
      note("unknown file " + name + " in the spool directory is ignored");
    }
    ::closedir(d);
  }

  // 2. The ledger.
  LedgerState led;
  const std::string ledger_path = dir + "/" + kLedgerName;
  {
    char buf[kLedgerFileSize] = {};
    std::size_t got = 0;
    if (ledger_exists) {
      const int fd = ::open(ledger_path.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0) return io_status("spool " + dir + ": cannot open ledger " + ledger_path, errno);
      ledger_fd = std::make_shared<Fd>(fd);
      if (const int e = pread_all(fd, buf, sizeof buf, 0, &got); e != 0) {
        return io_status("spool " + dir + ": cannot read ledger " + ledger_path, e);
      }
    }
    int valid = 0;
    bool torn_nonzero = false;
    for (int i = 0; i < 2; ++i) {
      const std::uint64_t off = kSlotOffset[i];
      LedgerSlot slot;
      const bool complete = got >= off + kSlotSize;
      const SlotParse p = complete ? decode_ledger_slot(buf + off, slot) : SlotParse::kInvalid;
      if (p == SlotParse::kUnknownVersion) {
        return Status(StatusCode::kFailedPrecondition,
                      "spool " + dir + ": ledger has format version " + std::to_string(slot.version) +
                          "; this build reads version " + std::to_string(kFormatVersion) + ". Refusing to start");
      }
      if (p == SlotParse::kOk) {
        ++valid;
        if (!led.found || slot.generation > led.generation) {
          led.found = true;
          led.generation = slot.generation;
          led.acked = slot.acked;
          led.read = slot.read;
          led.durable = slot.durable;
          led.next = slot.next;
        }
      } else if (got > off) {
        const std::size_t avail = std::min<std::size_t>(kSlotSize, got - off);
        torn_nonzero = torn_nonzero || std::any_of(buf + off, buf + off + avail, [](char c) { return c != 0; });
      }
    }
    if (ledger_exists && !led.found) {
      note("ledger " + ledger_path + " is unreadable (" + std::to_string(got) +
           " bytes, no valid slot): replaying every record on disk; records delivered before may be "
           "delivered again");
    } else if (led.found && valid == 1 && torn_nonzero) {
      note("one ledger slot was torn (an interrupted write); used the other (generation " +
           std::to_string(led.generation) + ")");
    } else if (!ledger_exists && !seg_files.empty()) {
      note("ledger " + ledger_path + " is missing: replaying every record on disk; records delivered "
           "before may be delivered again");
    }
    ledger_gen = led.generation;
  }
  const std::uint64_t a = led.found ? led.acked : 0;

  // 3. Scan the segments in order.
  struct Found {
    Segment seg;
    std::uint64_t first_present = 0;  // 0 = none
    bool header_ok = false;
    bool tail_damaged = false;
    Cursor first_unacked{kNone, 0, 0};
  };
  std::vector<Found> found;
  // Files are changed only once recovery has decided to go ahead (a refusal leaves the
  // directory exactly as it found it).
  struct Pending {
    enum Op { kTruncate, kUnlink, kRename } op;
    std::string path;
    std::uint64_t size = 0;
    FdPtr fd;
  };
  std::vector<Pending> pending;
  std::uint64_t prev_last = 0;
  std::size_t index = 0;
  for (const auto& [name_seq, path] : seg_files) {
    const bool last_file = ++index == seg_files.size();
    const std::string name = path.substr(dir.size() + 1);
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      return io_status("spool " + dir + ": cannot open segment " + name +
                           " (refusing to start rather than lose its records)",
                       errno);
    }
    auto f = std::make_shared<Fd>(fd);
    struct stat sb{};
    if (::fstat(fd, &sb) != 0) return io_status("spool " + dir + ": cannot stat " + name, errno);
    const auto size = static_cast<std::uint64_t>(sb.st_size);
    if (size < kSegHeader) {
      note("segment " + name + " is shorter than its header (" + std::to_string(size) +
           " bytes; a segment creation cut short by a crash): removed");
      pending.push_back({Pending::kUnlink, path, 0, nullptr});
      continue;
    }
    Found fs;
    fs.seg.path = path;
    fs.seg.fd = f;
    fs.seg.size = size;
    {
      char header[kSegHeader];
      std::size_t got = 0;
      if (const int e = pread_all(fd, header, kSegHeader, 0, &got); e != 0 || got != kSegHeader) {
        return io_status("spool " + dir + ": cannot read segment " + name, e != 0 ? e : EIO);
      }
      std::uint32_t version = 0;
      std::uint64_t first = 0;
      const SlotParse p = decode_segment_header(header, first, version);
      if (p == SlotParse::kUnknownVersion) {
        return Status(StatusCode::kFailedPrecondition,
                      "spool " + dir + ": segment " + name + " has format version " + std::to_string(version) +
                          "; this build reads version " + std::to_string(kFormatVersion) + ". Refusing to start");
      }
      if (p == SlotParse::kOk) {
        fs.header_ok = true;
        fs.seg.first_seq = first;
        if (first != name_seq) {
          note("segment " + name + " says its first seq is " + std::to_string(first) + "; using that");
        }
      } else {
        fs.seg.first_seq = name_seq;
        note("segment " + name + " has a bad header (magic or checksum): scanning it for records from seq " +
             std::to_string(name_seq) + " (taken from its name)");
      }
    }
    if (fs.seg.first_seq == 0 || fs.seg.first_seq <= prev_last) {
      return Status(StatusCode::kFailedPrecondition,
                    "spool " + dir + ": segment " + name + " starts at seq " + std::to_string(fs.seg.first_seq) +
                        ", which overlaps the records before it (up to " + std::to_string(prev_last) +
                        "). Refusing to start; move the directory aside to inspect it");
    }

    cache.invalidate();
    FileWindow w(fd, kNone - 1, size, cache);
    std::uint64_t pos = kSegHeader;
    std::uint64_t expected = fs.seg.first_seq;
    std::uint64_t last = 0;
    while (true) {
      ScanResult r = scan_next(w, pos, expected, expected + (1ull << 32), opt.max_record_bytes);
      if (r.kind == ScanResult::kIoError) {
        return io_status("spool " + dir + ": reading segment " + name, w.error());
      }
      if (r.kind == ScanResult::kEnd) break;
      if (r.kind == ScanResult::kTail) {
        const std::uint64_t cut = size - pos;
        rep.torn_bytes_cut += cut;
        if (last_file && fs.header_ok) {
          pending.push_back({Pending::kTruncate, path, pos, f});
          note("segment " + name + ": torn tail of " + std::to_string(cut) + " bytes cut at offset " +
               std::to_string(pos) + " (a write interrupted by a crash)");
          fs.seg.size = pos;
        } else {
          fs.tail_damaged = true;
          note("segment " + name + ": " + std::to_string(cut) + " unreadable bytes at its end (offset " +
               std::to_string(pos) + ")");
        }
        break;
      }
      if (r.seq > expected) {
        // Records expected..seq-1 were in the damaged bytes (or are missing).
        const std::uint64_t from = std::max(expected, a + 1);
        if (from < r.seq) {
          rep.corrupt_records_skipped += r.seq - from;
          counted_through = std::max(counted_through, r.seq - 1);
        }
        note("segment " + name + ": " + std::to_string(r.seq - expected) + " corrupt record(s) skipped (seq " +
             std::to_string(expected) + ".." + std::to_string(r.seq - 1) + ", offset " + std::to_string(pos) +
             ")");
        add_hole(expected, r.seq - 1);
      } else if (r.resynced) {
        note("segment " + name + ": " + std::to_string(r.offset - pos) + " garbage bytes skipped at offset " +
             std::to_string(pos));
      }
      if (fs.first_present == 0) fs.first_present = r.seq;
      if (r.seq > a && fs.first_unacked.seg == kNone) fs.first_unacked = {fs.seg.first_seq, r.offset, r.seq};
      last = r.seq;
      pos = r.offset + kFrameHeader + r.len;
      expected = r.seq + 1;
    }
    fs.seg.end = pos;
    fs.seg.last_seq = fs.first_present == 0 ? fs.seg.first_seq - 1 : last;
    if (fs.first_present == 0) {
      if (fs.header_ok && fs.seg.size == kSegHeader) {
        // Created, never written: nothing to keep.
        if (!last_file) note("empty segment " + name + " removed");
        pending.push_back({Pending::kUnlink, path, 0, nullptr});
        continue;
      }
      pending.push_back({Pending::kRename, path, 0, nullptr});
      note("segment " + name + " holds no readable record: moved aside to " + name + ".corrupt");
      continue;
    }
    prev_last = fs.seg.last_seq;
    found.push_back(std::move(fs));
  }
  cache.invalidate();

  // 4. Positions.
  std::uint64_t data_last = found.empty() ? 0 : found.back().seg.last_seq;
  acked = led.found ? led.acked : (found.empty() ? 0 : found.front().first_present - 1);
  if (led.found && led.durable > acked && led.durable > data_last) {
    const std::uint64_t from = std::max(acked, data_last) + 1;
    return Status(StatusCode::kDataLoss,
                  "spool " + dir + ": the ledger says records up to seq " + std::to_string(led.durable) +
                      " were on stable storage, but the segments end at seq " + std::to_string(data_last) +
                      " (acknowledged up to " + std::to_string(acked) + "): records " + std::to_string(from) + ".." +
                      std::to_string(led.durable) +
                      " are lost (a segment truncated or deleted outside the connector, or a disk that ignores "
                      "fsync). Refusing to start. To accept the loss and replay what is left, delete " +
                      ledger_path);
  }
  if (led.found && !found.empty() && acked > data_last) {
    note("the ledger acknowledges up to seq " + std::to_string(acked) + ", past the last record on disk (" +
         std::to_string(data_last) + "); acknowledged records need no replay, continuing at seq " +
         std::to_string(acked + 1));
  }
  // Seqs of records lost before they reached stable storage are reused: they were never
  // acknowledged, and no segment can hold them, so a gap here would look like lost files.
  next_seq = std::max(data_last + 1, acked + 1);
  if (led.found && led.next > next_seq) {
    note("records " + std::to_string(next_seq) + ".." + std::to_string(led.next - 1) +
         " were appended but never reached stable storage (fsync policy " + fsync_policy_name(opt.fsync) +
         ") and are lost; their seqs are reused");
  }
  // Seqs above the ack position that no segment holds.
  std::uint64_t want = acked + 1;
  for (std::size_t i = 0; i < found.size(); ++i) {
    const Found& fs = found[i];
    if (fs.seg.last_seq <= acked) {
      want = std::max(want, fs.seg.last_seq + 1);
      continue;
    }
    if (fs.first_present > want) {
      const std::uint64_t lo = want;
      const std::uint64_t hi = fs.first_present - 1;
      add_hole(lo, hi);
      rep.corrupt_records_skipped += hi - lo + 1;
      const bool in_damaged_tail = i > 0 && found[i - 1].tail_damaged;
      note("records " + std::to_string(lo) + ".." + std::to_string(hi) +
           (in_damaged_tail ? " were in the unreadable end of segment " +
                                  found[i - 1].seg.path.substr(dir.size() + 1) + " and are lost"
                            : " are missing: no segment holds them (a segment file deleted or lost?)"));
    }
    want = fs.seg.last_seq + 1;
  }
  counted_through = std::max(counted_through, next_seq - 1);
  trim_holes();

  for (const Pending& pa : pending) {
    const std::string name = pa.path.substr(dir.size() + 1);
    if (pa.op == Pending::kTruncate && ::ftruncate(pa.fd->fd, static_cast<off_t>(pa.size)) != 0) {
      return io_status("spool " + dir + ": cannot cut the torn tail of " + name, errno);
    }
    if (pa.op == Pending::kUnlink && ::unlink(pa.path.c_str()) != 0 && errno != ENOENT) {
      return io_status("spool " + dir + ": cannot remove " + name, errno);
    }
    if (pa.op == Pending::kRename && ::rename(pa.path.c_str(), (pa.path + ".corrupt").c_str()) != 0) {
      return io_status("spool " + dir + ": cannot move unreadable segment " + name + " aside", errno);
    }
  }

  // Durable now: sync what recovery found (cheap when already clean).
  if (opt.fsync != FsyncPolicy::kNever) {
    for (const auto& fs : found) {
      if (const int e = datasync(fs.seg.fd->fd); e != 0) return io_status("spool " + dir + ": fdatasync", e);
    }
    durable = data_last;
  } else {
    durable = std::min(led.durable, data_last);
  }

  // 5. Table, cursors, report.
  Cursor first_unacked{kNone, 0, 0};
  rep.first_unacked_seq = next_seq;
  for (auto& fs : found) {
    if (first_unacked.seg == kNone && fs.first_unacked.seg != kNone) rep.first_unacked_seq = fs.first_unacked.next_seq;
    if (first_unacked.seg == kNone && fs.first_unacked.seg != kNone) first_unacked = fs.first_unacked;
    bytes += fs.seg.size;
    segs.push_back(std::move(fs.seg));
  }
  const bool last_ok = !found.empty() && found.back().header_ok && !found.back().tail_damaged;
  active = last_ok && segs.back().last_seq + 1 == next_seq;
  if (first_unacked.seg == kNone) {
    first_unacked = segs.empty() ? Cursor{next_seq, kSegHeader, next_seq}
                                 : Cursor{segs.back().first_seq, segs.back().end, next_seq};
  }
  first_unacked.next_seq = acked + 1;
  ack_cur = read_cur = first_unacked;
  read_max = std::max(led.read, acked);

  rep.records = present_after(acked);
  if (led.found) {
    const std::uint64_t r = std::min(led.read, data_last);
    rep.redelivered = r > acked ? (r - acked) - holes_in(acked, r) : 0;
  } else {
    rep.redelivered = rep.records;
  }
  rep.next_seq = next_seq;
  last_sync_us = clock->steady_us();

  // The recovered state goes to both ledger slots before anything else happens.
  if (!ledger_fd) {
    const int fd = ::open(ledger_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return io_status("spool " + dir + ": cannot create ledger " + ledger_path, errno);
    ledger_fd = std::make_shared<Fd>(fd);
  }
  {
    char slot[kSlotSize];
    for (int i = 0; i < 2; ++i) {
      ++ledger_gen;
      encode_ledger_slot(slot, ledger_gen, acked, read_max, durable, next_seq);
      if (const int e = pwrite_all(ledger_fd->fd, slot, kSlotSize, kSlotOffset[ledger_gen % 2]); e != 0) {
        return io_status("spool " + dir + ": cannot write ledger " + ledger_path, e);
      }
    }
    if (::ftruncate(ledger_fd->fd, static_cast<off_t>(kLedgerFileSize)) != 0 || datasync(ledger_fd->fd) != 0 ||
        ::fsync(dir_fd->fd) != 0) {
      return io_status("spool " + dir + ": cannot sync ledger " + ledger_path, errno);
    }
  }
  // Segments fully acknowledged before the crash.
  std::vector<std::string> gone = take_acked_segments();
  unlink_all(gone);
  read_cur = ack_cur;
  rep.segments = segs.size();
  rep.bytes = bytes;
  corrupt = rep.corrupt_records_skipped;
  return Status::ok();
}

Result<std::uint64_t> Spool::append(const std::vector<std::string_view>& payloads) {
  State& s = *s_;
  std::lock_guard wl(s.append_mu);
  if (payloads.empty()) {
    std::lock_guard l(s.mu);
    return s.next_seq;
  }
  std::uint64_t total = 0;
  for (const auto& p : payloads) {
    if (p.size() > s.opt.max_record_bytes) {
      return invalid_argument("spool " + s.opt.directory + ": record of " + std::to_string(p.size()) +
                              " bytes exceeds max_record_bytes (" + std::to_string(s.opt.max_record_bytes) + ")");
    }
    total += kFrameHeader + p.size();
  }
  if (kSegHeader + total > s.opt.max_bytes) {
    return invalid_argument("spool " + s.opt.directory + ": a batch of " + std::to_string(total) +
                            " bytes can never fit under max_bytes (" + std::to_string(s.opt.max_bytes) + ")");
  }

  // A fully acknowledged active segment is closed so that it can be deleted.
  bool recycle;
  {
    std::lock_guard l(s.mu);
    recycle = s.active && s.segs.back().has_records() && s.segs.back().last_seq <= s.acked;
    if (recycle) s.active = false;
  }
  if (recycle) (void)s.delete_acked();  // on failure the files stay; recovery deletes them

  bool roll;
  std::uint64_t first;
  {
    std::lock_guard l(s.mu);
    const Segment* act = s.active ? &s.segs.back() : nullptr;
    roll = act == nullptr || (act->end > kSegHeader && act->end + total > s.opt.segment_bytes);
    const std::uint64_t need = total + (roll ? kSegHeader : 0);
    if (s.bytes + need > s.opt.max_bytes) {
      return Status(StatusCode::kResourceExhausted,
                    "spool " + s.opt.directory + " is full: " + std::to_string(s.bytes) + " of " +
                        std::to_string(s.opt.max_bytes) + " bytes used, the batch needs " + std::to_string(need));
    }
    first = s.next_seq;
  }
  if (roll) {
    if (Status st = s.roll(first); !st.is_ok()) return st;
  }

  std::string& buf = s.wbuf;
  buf.resize(total);
  char* p = buf.data();
  std::uint64_t seq = first;
  for (const auto& pl : payloads) {
    encode_frame_header(p, seq++, pl);
    if (!pl.empty()) std::memcpy(p + kFrameHeader, pl.data(), pl.size());
    p += kFrameHeader + pl.size();
  }

  FdPtr fd;
  std::uint64_t off;
  {
    std::lock_guard l(s.mu);
    fd = s.segs.back().fd;
    off = s.segs.back().end;
  }
  int e = pwrite_all(fd->fd, buf.data(), buf.size(), off);
  const bool batch_sync = s.opt.fsync == FsyncPolicy::kBatch;
  if (e == 0 && batch_sync) e = datasync(fd->fd);
  if (e != 0) {
    const bool cut = ::ftruncate(fd->fd, static_cast<off_t>(off)) == 0;
    std::vector<std::string> gone;
    {
      std::lock_guard l(s.mu);
      // After a failed write or fsync the file's tail is not trusted: start a new segment.
      Segment& act = s.segs.back();
      s.active = false;
      if (!act.has_records()) {
        gone.push_back(act.path);
        s.bytes -= act.size;
        s.segs.pop_back();
        s.cache.invalidate();
      }
    }
    s.unlink_all(gone);
    if (buf.capacity() > (4u << 20)) std::string().swap(buf);
    return io_status("spool " + s.opt.directory + ": appending " + std::to_string(payloads.size()) +
                         " record(s)" + (cut ? "" : " (and the segment could not be cut back)"),
                     e);
  }
  if (buf.capacity() > (4u << 20)) std::string().swap(buf);
  bool due = false;
  {
    std::lock_guard l(s.mu);
    Segment& act = s.segs.back();
    act.end += total;
    act.size += total;
    act.last_seq = first + payloads.size() - 1;
    s.bytes += total;
    s.next_seq = act.last_seq + 1;
    if (batch_sync) s.durable = act.last_seq;
    due = s.opt.fsync == FsyncPolicy::kInterval &&
          s.clock->steady_us() - s.last_sync_us >= static_cast<std::int64_t>(s.opt.fsync_interval.count()) * 1000;
  }
  if (due) (void)s.sync_now(false);  // a failed interval sync is retried at the next one
  return first;
}

Status Spool::read(std::size_t max_records, std::size_t max_bytes, std::vector<SpoolRecord>& out) {
  State& s = *s_;
  // The payload strings of `out` are reused (assign keeps their capacity): a reader that
  // passes the same vector each time allocates nothing per record once warmed up.
  std::size_t n = 0;
  Status io;
  bool any = false;
  {
    std::lock_guard l(s.mu);
    std::size_t bytes = 0;
    while (n < max_records) {
      Cursor before = s.read_cur;
      ScanResult r = s.step(s.read_cur, io);
      if (!io.is_ok()) {
        s.read_cur = before;
        break;
      }
      if (r.kind != ScanResult::kRecord) break;
      if (n > 0 && bytes + r.len > max_bytes) {
        s.read_cur = before;
        break;
      }
      bytes += r.len;
      if (n == out.size()) out.emplace_back();
      out[n].seq = r.seq;
      out[n].payload.assign(r.payload, r.len);
      ++n;
      s.inflight.push_back(InFlight{r.seq, s.read_cur.seg, s.read_cur.offset});
      s.read_max = std::max(s.read_max, r.seq);
      any = true;
    }
  }
  out.resize(n);
  if (any) (void)s.write_ledger(false);  // the read mark only feeds RecoveryReport::redelivered
  if (!io.is_ok() && out.empty()) return io;
  return Status::ok();
}

void Spool::rewind() {
  State& s = *s_;
  std::lock_guard l(s.mu);
  s.read_cur = s.ack_cur;
  s.inflight.clear();
}

Status Spool::ack(std::uint64_t up_to) {
  State& s = *s_;
  {
    std::lock_guard l(s.mu);
    if (up_to <= s.acked) return Status::ok();
    if (up_to >= s.next_seq) {
      return Status(StatusCode::kOutOfRange, "spool " + s.opt.directory + ": ack of seq " + std::to_string(up_to) +
                                                 " but the last record is " + std::to_string(s.next_seq - 1));
    }
    if (up_to < s.read_cur.next_seq) {
      // Within what was read: the in-flight list knows where the next record starts.
      while (!s.inflight.empty() && s.inflight.front().seq <= up_to) {
        const InFlight& f = s.inflight.front();
        s.ack_cur = Cursor{f.seg, f.end, f.seq + 1};
        s.inflight.pop_front();
      }
      s.ack_cur.next_seq = up_to + 1;
    } else {
      // Past the read cursor: skip forward over records nobody read.
      s.inflight.clear();
      Status io;
      while (true) {
        const std::size_t i = s.resolve(s.read_cur);
        if (i == State::kNpos) break;
        const Segment& seg = s.segs[i];
        if (seg.last_seq <= up_to) {
          if (s.is_last(i)) {
            s.read_cur = Cursor{seg.first_seq, seg.end, up_to + 1};
            break;
          }
          const Segment& next = s.segs[i + 1];  // skip the whole segment without reading it
          s.read_cur = Cursor{next.first_seq, kSegHeader, next.first_seq};
          continue;
        }
        if (s.read_cur.next_seq > up_to) break;
        ScanResult r = s.step(s.read_cur, io);
        if (!io.is_ok() || r.kind != ScanResult::kRecord) break;
        if (r.seq > up_to) {
          s.read_cur = Cursor{s.read_cur.seg, r.offset, r.seq};
          break;
        }
      }
      s.read_cur.next_seq = std::max(s.read_cur.next_seq, up_to + 1);
      s.ack_cur = s.read_cur;
      if (!io.is_ok()) return io;
    }
    s.acked = up_to;
    s.read_max = std::max(s.read_max, up_to);
    s.trim_holes();
  }
  std::vector<std::string> gone;
  {
    std::lock_guard l(s.mu);
    gone = s.take_acked_segments();
  }
  Status st = s.write_ledger(s.opt.fsync == FsyncPolicy::kBatch || !gone.empty());
  if (st.is_ok()) s.unlink_all(gone);
  return st;
}

std::uint64_t Spool::drop_oldest_segment() {
  State& s = *s_;
  std::lock_guard wl(s.append_mu);
  std::uint64_t dropped = 0;
  std::vector<std::string> gone;
  {
    std::lock_guard l(s.mu);
    if (s.segs.empty()) return 0;
    Segment& front = s.segs.front();
    if (!front.has_records()) return 0;
    if (s.active && s.segs.size() == 1) s.active = false;  // the next append starts a new segment
    const std::uint64_t hi = front.last_seq;
    if (hi > s.acked) {
      dropped = (hi - s.acked) - s.holes_in(s.acked, hi);
      s.acked = hi;
      s.trim_holes();
    }
    while (!s.inflight.empty() && s.inflight.front().seq <= hi) s.inflight.pop_front();
    gone.push_back(front.path);
    s.bytes -= front.size;
    s.segs.pop_front();
    s.cache.invalidate();
    if (s.read_cur.next_seq <= hi) s.read_cur = Cursor{hi + 1, kSegHeader, hi + 1};
    if (s.ack_cur.next_seq <= hi) s.ack_cur = Cursor{hi + 1, kSegHeader, hi + 1};
    s.read_max = std::max(s.read_max, s.acked);
  }
  if (s.write_ledger(true).is_ok()) s.unlink_all(gone);
  return dropped;
}

void Spool::sync_if_due() {
  State& s = *s_;
  if (s.opt.fsync != FsyncPolicy::kInterval) return;
  {
    std::lock_guard l(s.mu);
    if (s.clock->steady_us() - s.last_sync_us < static_cast<std::int64_t>(s.opt.fsync_interval.count()) * 1000) {
      return;
    }
  }
  (void)s.sync_now(false);
}

Status Spool::flush() { return s_->sync_now(true); }

std::uint64_t Spool::bytes() const {
  std::lock_guard l(s_->mu);
  return s_->bytes;
}
std::uint64_t Spool::unacked() const {
  std::lock_guard l(s_->mu);
  return s_->present_after(s_->acked);
}
std::uint64_t Spool::unread() const {
  std::lock_guard l(s_->mu);
  return s_->present_after(std::max(s_->read_cur.next_seq, std::uint64_t{1}) - 1);
}
std::uint64_t Spool::next_seq() const {
  std::lock_guard l(s_->mu);
  return s_->next_seq;
}
std::uint64_t Spool::acked_seq() const {
  std::lock_guard l(s_->mu);
  return s_->acked;
}
std::uint64_t Spool::durable_seq() const {
  std::lock_guard l(s_->mu);
  return s_->durable;
}
std::uint64_t Spool::corrupt_skipped() const {
  std::lock_guard l(s_->mu);
  return s_->corrupt;
}

}  // namespace uc::buffer
