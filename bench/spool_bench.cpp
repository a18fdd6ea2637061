// Disk spool throughput and recovery time (issue 6).
//
//   BM_Append/<record bytes>/<policy>  append batches of 1,000 records; MB/s = payload+frame
//                                      bytes written, records/s. policy: 0 batch, 1 interval
//                                      (1 s), 2 never. Segments are acknowledged (and deleted)
//                                      every 256 MB, outside the timed region.
//   BM_Read/<record bytes>             read batches of 1,000 and ack them, from a spool
//                                      filled outside the timed region (page cache warm).
//   BM_Recovery1GB/<cold>              Spool::open() of a 1 GB spool of 4 KiB records:
//                                      warm page cache (0) or with the segment files dropped
//                                      from the page cache first (1, posix_fadvise DONTNEED).
//
// Files go to $SPOOL_BENCH_DIR (default /var/tmp) and are deleted at exit.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "buffer/spool.h"

namespace {

using uc::buffer::FsyncPolicy;
using uc::buffer::Spool;
using uc::buffer::SpoolOptions;
using uc::buffer::SpoolRecord;

constexpr std::size_t kBatch = 1000;
constexpr std::uint64_t kFrameOverhead = 16;

std::string base_dir() {
  const char* d = std::getenv("SPOOL_BENCH_DIR");
  return std::string(d != nullptr && *d != '\0' ? d : "/var/tmp") + "/uc-spool-bench-" + std::to_string(::getpid());
}

const std::string& root() {
  static const std::string r = [] {
    std::filesystem::create_directories(base_dir());
    return base_dir();
  }();
  return r;
}

std::unique_ptr<Spool> open_fresh(const std::string& name, FsyncPolicy policy, std::uint64_t max_bytes) {
  const std::string dir = root() + "/" + name;
  std::filesystem::remove_all(dir);
  SpoolOptions o;
  o.directory = dir;
  o.fsync = policy;
  o.max_bytes = max_bytes;
  auto r = Spool::open(o, uc::SystemClock::instance());
  if (!r.is_ok()) {
    std::fprintf(stderr, "open: %s\n", r.status().to_string().c_str());
    std::abort();
  }
  return std::move(r).value();
}

std::vector<std::string> payloads(std::size_t size) {
  std::vector<std::string> v;
  for (std::size_t i = 0; i < kBatch; ++i) {
    std::string p(size, '\0');
    for (std::size_t k = 0; k < size; ++k) p[k] = static_cast<char>('a' + (i * 31 + k) % 26);
    v.push_back(std::move(p));
  }
  return v;
}

void BM_Append(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const auto policy = static_cast<FsyncPolicy>(state.range(1));
  auto spool = open_fresh("append", policy, 2ull << 30);
  const auto own = payloads(size);
  const std::vector<std::string_view> batch(own.begin(), own.end());
  std::uint64_t written = 0;
  for (auto _ : state) {
    auto r = spool->append(batch);
    if (!r.is_ok()) {
      state.SkipWithError(r.status().to_string().c_str());
      break;
    }
    written += kBatch * (size + kFrameOverhead);
    if (spool->bytes() > (256ull << 20)) {
      state.PauseTiming();
      (void)spool->ack(spool->next_seq() - 1);
      state.ResumeTiming();
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(written));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBatch));
  state.SetLabel(uc::buffer::fsync_policy_name(policy));
  spool.reset();
  std::filesystem::remove_all(root() + "/append");
}

void BM_Read(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  auto spool = open_fresh("read", FsyncPolicy::kNever, 2ull << 30);
  const auto own = payloads(size);
  const std::vector<std::string_view> batch(own.begin(), own.end());
  const std::uint64_t fill_batches = (128ull << 20) / (kBatch * (size + kFrameOverhead)) + 1;
  std::vector<SpoolRecord> out;
  std::uint64_t bytes = 0;
  std::int64_t records = 0;
  for (auto _ : state) {
    if (spool->unread() == 0) {
      state.PauseTiming();
      for (std::uint64_t i = 0; i < fill_batches; ++i) (void)spool->append(batch);
      state.ResumeTiming();
    }
    if (!spool->read(kBatch, 64u << 20, out).is_ok() || out.empty()) {
      state.SkipWithError("read failed");
      break;
    }
    (void)spool->ack(out.back().seq);
    records += static_cast<std::int64_t>(out.size());
    bytes += out.size() * (size + kFrameOverhead);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(records);
  spool.reset();
  std::filesystem::remove_all(root() + "/read");
}

void drop_from_page_cache(const std::string& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

void BM_Recovery1GB(benchmark::State& state) {
  const bool cold = state.range(0) != 0;
  const std::string dir = root() + "/recovery";
  static bool built = false;
  std::uint64_t records = 0;
  if (!built) {
    auto spool = open_fresh("recovery", FsyncPolicy::kNever, 2ull << 30);
    const auto own = payloads(4096);
    const std::vector<std::string_view> batch(own.begin(), own.end());
    while (spool->bytes() < (1ull << 30)) (void)spool->append(batch);
    (void)spool->flush();
    built = true;
  }
  SpoolOptions o;
  o.directory = dir;
  o.max_bytes = 2ull << 30;
  o.fsync = FsyncPolicy::kNever;
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      drop_from_page_cache(dir);
      state.ResumeTiming();
    }
    auto r = Spool::open(o, uc::SystemClock::instance());
    if (!r.is_ok()) {
      state.SkipWithError(r.status().to_string().c_str());
      break;
    }
    records = (*r)->recovery().records;
    bytes = (*r)->recovery().bytes;
    if (!(*r)->recovery().notes.empty()) state.SkipWithError((*r)->recovery().notes.front().c_str());
  }
  state.counters["spool_MB"] = static_cast<double>(bytes) / 1e6;
  state.counters["records"] = static_cast<double>(records);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
  state.SetLabel(cold ? "cold page cache" : "warm page cache");
}

BENCHMARK(BM_Append)
    ->ArgsProduct({{200, 4096}, {0, 1, 2}})
    ->ArgNames({"bytes", "policy"})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_Read)->Arg(200)->Arg(4096)->ArgName("bytes")->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Recovery1GB)->Arg(0)->Arg(1)->ArgName("cold")->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  std::filesystem::remove_all(base_dir(), ec);
  return 0;
}
