#include "app/dlq_command.h"

#include <filesystem>
#include <iostream>

#include "app/commands.h"
#include "app/load_config.h"
#include "buffer/dlq.h"
#include "buffer/config.h"
#include "core/record_codec.h"

namespace uc::app {
namespace {

namespace fs = std::filesystem;

// One dead-letter queue on disk. A target with one sink keeps <dir>/<target>.jsonl; with
// several sinks each lane has its own folder <dir>/<target>.<sink>/<target>.jsonl (and its
// spool is <spool dir>/<target>.<sink>), see pipeline::lane_directory (pipeline/lane_config.h).
struct DlqLane {
  std::string target;  // the file's stem: the target name as the DLQ stores it
  std::string sink;    // empty for a target with one sink
  fs::path directory;  // what DeadLetterQueue::open takes
  fs::path file;
  std::string lane;    // the lane's folder name under the spool directory
  std::string label() const { return sink.empty() ? target : target + " (sink " + sink + ")"; }
};

std::vector<DlqLane> dlq_lanes(const std::string& dir) {
  std::vector<DlqLane> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".jsonl") {
      const std::string stem = e.path().stem().string();
      out.push_back({stem, "", dir, e.path(), stem});
    } else if (e.is_directory()) {
      const std::string folder = e.path().filename().string();
      for (const auto& f : fs::directory_iterator(e.path(), ec)) {
        const std::string stem = f.path().stem().string();
        if (!f.is_regular_file() || f.path().extension() != ".jsonl") continue;
        if (folder.size() <= stem.size() + 1 || folder.compare(0, stem.size() + 1, stem + ".") != 0) continue;
        out.push_back({stem, folder.substr(stem.size() + 1), e.path(), f.path(), folder});
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const DlqLane& a, const DlqLane& b) { return a.file < b.file; });
  return out;
}

}  // namespace

int cmd_dlq(const std::string& action, const std::string& config_path, const std::string& target, int limit) {
  const auto loaded = load_config(config_path, std::cerr);
  if (!loaded) return kExitUsage;
  const config::Config& cfg = *loaded;
  const std::string dir = cfg.backpressure.dlq.directory;
  bool any = false;
  int rc = kExitOk;
  for (const DlqLane& lane : dlq_lanes(dir)) {
    if (!target.empty() && lane.target != target) continue;
    any = true;
    const std::string name = lane.label();
    const fs::path& path = lane.file;
    auto q = buffer::DeadLetterQueue::open(lane.directory.string(), lane.target);
    if (!q.is_ok()) {
      std::cerr << q.status().message() << '\n';
      return kExitFailure;
    }
    if (action == "list") {
      std::cout << "# " << name << ": " << (*q)->count() << " records (" << path.string() << ")\n";
      auto entries = (*q)->list(0, static_cast<std::size_t>(limit));
      if (!entries.is_ok()) {
        std::cerr << entries.status().message() << '\n';
        return kExitFailure;
      }
      for (const auto& e : *entries) {
        std::string line = "{\"time_us\":" + std::to_string(e.time_us) + ",\"reason\":";
        append_json_string(line, e.reason);
        line += ",\"record\":" + (e.record_json.empty() ? std::string("null") : e.record_json) + "}";
        std::cout << line << '\n';
      }
    } else if (action == "purge") {
      auto n = (*q)->purge();
      if (!n.is_ok()) {
        std::cerr << n.status().message() << '\n';
        return kExitFailure;
      }
      std::cout << name << ": purged " << *n << " records\n";
    } else {  // replay: into the target's spool, which the connector delivers from
      if (!cfg.backpressure.disk_spool.enabled) {
        std::cerr << "replay from the command line needs backpressure.disk_spool.enabled; with a running connector "
                     "use POST /api/dlq/replay\n";
        return kExitFailure;
      }
      auto so = buffer::spool_options_from(cfg.backpressure.disk_spool,
                                           (fs::path(cfg.backpressure.disk_spool.directory) / lane.lane).string());
      so.fsync = buffer::FsyncPolicy::kBatch;  // each replayed batch is durable before its DLQ entries go
      auto spool = buffer::Spool::open(so, SystemClock::instance());
      if (!spool.is_ok()) {
        std::cerr << name << ": " << spool.status().message()
                  << (spool.status().code() == StatusCode::kFailedPrecondition
                          ? " (is the connector running? then use POST /api/dlq/replay)"
                          : "")
                  << '\n';
        return kExitFailure;
      }
      auto n = (*q)->replay([&](std::vector<Record>&& records) {
        std::string encoded;
        std::vector<std::string_view> views;
        encode_proto_payloads(records, encoded, views);
        auto appended = (*spool)->append(views);
        if (!appended.is_ok()) return appended.status();
        return (*spool)->flush();
      });
      if (!n.is_ok()) {
        std::cerr << name << ": " << n.status().message() << '\n';
        rc = kExitFailure;
        continue;
      }
      std::cout << name << ": " << *n << " records moved to the spool; the connector delivers them on its next start\n";
    }
  }
  if (!any) {
    if (!target.empty()) {
      std::cerr << "no DLQ for target \"" << target << "\" in " << dir << '\n';
      return kExitUsage;
    }
    std::cout << "no dead-lettered records in " << dir << '\n';
  }
  return rc;
}

}  // namespace uc::app
