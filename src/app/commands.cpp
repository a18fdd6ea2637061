#include "app/commands.h"

#include <google/protobuf/descriptor.h>
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <iostream>
#include <mutex>

#include "app/components.h"
#include "app/registry.h"
#include "app/connector.h"
#include "app/load_config.h"
#include "app/simulate_command.h"
#include "record.pb.h"
#include "record_proto_text.h"
#include "telemetry/log.h"

#ifndef UC_VERSION
#define UC_VERSION "0.0.0"
#endif
#ifndef UC_GIT_REV
#define UC_GIT_REV "unknown"
#endif

namespace uc::app {
namespace {

// Blocks SIGINT/SIGTERM (and SIGHUP for `run`, which reloads on it) in every thread
// (call before any thread starts) so that the main thread can take them synchronously
// with sigwait.
sigset_t block_stop_signals(bool with_hangup = false) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (with_hangup) sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

constexpr auto kDrainTimeout = std::chrono::seconds(30);

// Every connection takes a socket and a waker (two descriptors per OPC UA or MQTT
// source): 500 sources pass Debian's default soft limit of 1,024. The soft limit is raised
// to the hard one, as the kernel allows any process to.
void raise_open_file_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= r.rlim_max) return;
  const rlim_t was = r.rlim_cur;
  r.rlim_cur = r.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &r) == 0) spdlog::debug("open file limit raised from {} to {}", was, r.rlim_max);
}

}  // namespace

int cmd_validate(const std::string& config_path) {
  auto cfg = load_config(config_path, std::cerr);
  if (!cfg) return kExitUsage;
  std::cout << config_path << ": ok (" << cfg->sources.size() << " sources)\n";
  for (const auto& u : unavailable_features(*cfg)) std::cout << "  note: not available yet in this build: " << u << '\n';
  return kExitOk;
}

namespace {

// SIGHUP: the configuration is re-read and the difference applied (Connector::reload).
void reload_on_hangup(Connector& connector, const std::string& config_path) {
  const nlohmann::json r = connector.reload();
  if (r["ok"] != true) {
    spdlog::error("received SIGHUP: {} has errors; the running configuration is unchanged", config_path);
    for (const auto& e : r["errors"]) spdlog::error("  {}", e.get<std::string>());
    return;
  }
  spdlog::info("received SIGHUP: reloaded {}: added {}, changed {}, removed {}, {} unchanged, failed {}",
               config_path, r["added"].dump(), r["changed"].dump(), r["removed"].dump(), r["unchanged"].get<int>(),
               r["failed"].dump());
  if (!r["restart_required"].empty()) {
    spdlog::warn("sections changed in {} that apply only after a restart: {}", config_path,
                 r["restart_required"].dump());
  }
}

}  // namespace

int cmd_run(const std::string& config_path) {
  sigset_t signals = block_stop_signals(true);
  auto cfg = load_config(config_path, std::cerr);
  if (!cfg) return kExitUsage;
  // Loading a large config (thousands of registers or nodes) allocates much that is
  // short-lived (readers, paths, the first of two passes); hand the freed heap back instead
  // of carrying it for the process's life.
  malloc_trim(0);
  telemetry::init_logging(telemetry::to_string(cfg->connector.log_level));
  raise_open_file_limit();
  auto simulators = start_simulators(*cfg, "127.0.0.1");  // simulator: section, in-process; stops last
  if (!simulators.is_ok()) {
    spdlog::error("cannot start the simulator: {}", simulators.status().to_string());
    return kExitFailure;
  }
  ConnectorOptions options;
  options.config_path = config_path;
  auto connector = Connector::build(*cfg, options);
  if (!connector.is_ok()) {
    spdlog::error("cannot build the connector: {}", connector.status().to_string());
    return connector.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  Status s = (*connector)->start();
  if (!s.is_ok()) {
    spdlog::error("cannot start: {}", s.to_string());
    (*connector)->stop(std::chrono::milliseconds(0));
    return kExitFailure;
  }
  spdlog::info("connector {} running with {} sources; send SIGTERM or press Ctrl-C to stop", cfg->connector.name,
               (*connector)->pipeline().sources().size());
  int sig = 0;
  while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) reload_on_hangup(**connector, config_path);
  spdlog::info("received {}: stopping sources and flushing buffered records", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*connector)->stop(kDrainTimeout);
  auto st = (*connector)->status();
  std::uint64_t dropped = 0;
  for (const auto& t : st["targets"]) {
    for (const auto& [k, v] : t["records_dropped"].items()) dropped += v.get<std::uint64_t>();
  }
  spdlog::info("stopped; {} records dropped in total", dropped);
  return kExitOk;
}

int cmd_read(const std::string& config_path, const std::string& source, int batches, int timeout_ms) {
  sigset_t signals = block_stop_signals();
  (void)signals;
  auto cfg = load_config(config_path, std::cerr);
  if (!cfg) return kExitUsage;
  telemetry::init_logging("warn");
  const auto* sc = cfg->find_source(source);
  if (sc == nullptr) {
    std::cerr << "no source named \"" << source << "\" in " << config_path << '\n';
    return kExitUsage;
  }
  if (!build_source(*sc).is_ok()) {
    std::cerr << build_source(*sc).status().message() << '\n';
    return kExitFailure;
  }
  ConnectorOptions o;
  o.start_api = false;
  o.sinks = std::vector<std::string>{"stdout"};
  o.use_spool = false;
  o.only_sources = {source};
  auto connector = Connector::build(*cfg, o);
  if (!connector.is_ok()) {
    std::cerr << connector.status().to_string() << '\n';
    return kExitFailure;
  }
  Status s = (*connector)->start();
  if (!s.is_ok()) {
    std::cerr << s.to_string() << '\n';
    return kExitFailure;
  }
  // Wait until the source has published the requested number of batches.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    const auto views = (*connector)->pipeline().sources();
    done = !views.empty() && views[0].counters->batches.load() >= static_cast<std::uint64_t>(batches);
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  (*connector)->stop(std::chrono::seconds(5));
  if (!done) {
    std::cerr << "source " << source << " produced fewer than " << batches << " batches within " << timeout_ms
              << " ms\n";
    return kExitFailure;
  }
  return kExitOk;
}

std::string schema_sql(const std::string& table) {
  const auto* d = unified_connector::v1::OtRecord::descriptor();
  std::string out = "CREATE TABLE IF NOT EXISTS " + table + " (\n";
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    std::string type;
    if (f->is_map()) {
      type = "MAP<STRING, STRING>";
    } else {
      switch (f->cpp_type()) {
        case google::protobuf::FieldDescriptor::CPPTYPE_INT64: {
          const std::string& n = f->name();
          bool is_time = n.size() > 5 && n.compare(n.size() - 5, 5, "_time") == 0;
          type = is_time ? "TIMESTAMP" : "BIGINT";
          break;
        }
        case google::protobuf::FieldDescriptor::CPPTYPE_INT32: type = "INT"; break;
        case google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE: type = "DOUBLE"; break;
        case google::protobuf::FieldDescriptor::CPPTYPE_FLOAT: type = "FLOAT"; break;
        case google::protobuf::FieldDescriptor::CPPTYPE_BOOL: type = "BOOLEAN"; break;
        case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
          type = f->type() == google::protobuf::FieldDescriptor::TYPE_BYTES ? "BINARY" : "STRING";
          break;
        default: type = "STRING";
      }
    }
    out += "  " + f->name() + " " + type + (i + 1 < d->field_count() ? ",\n" : "\n");
  }
  out += ") USING DELTA\nCLUSTER BY (tag_path, event_time);\n";
  return out;
}

int cmd_schema(bool proto, const std::string& table) {
  if (proto) {
    std::cout << kRecordProtoText;
  } else {
    std::cout << schema_sql(table);
  }
  return kExitOk;
}

int cmd_version() {
  std::cout << "unified-connector " << UC_VERSION << " (git " << UC_GIT_REV << ", built " << __DATE__ << ", "
            << "C++" << __cplusplus / 100 % 100 << ", protobuf " << GOOGLE_PROTOBUF_VERSION << ")\n";
  return kExitOk;
}

}  // namespace uc::app
