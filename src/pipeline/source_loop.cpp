#include "pipeline/source_loop.h"

#include <spdlog/spdlog.h>

#include <random>

namespace uc::pipeline {
namespace {

// A peer that keeps refusing is logged at most this often per source.
constexpr std::size_t kConnectLogsPerWindow = 5;
constexpr std::chrono::seconds kConnectLogWindow{60};

std::uint64_t backoff_seed(const SourceRuntimeOptions& o) {
  return o.backoff_seed != 0 ? o.backoff_seed : std::random_device{}();
}

}  // namespace

SourceRuntimeOptions runtime_options_from(const config::SourceConfig& source) {
  SourceRuntimeOptions o;
  o.endpoint = source.endpoint;
  o.backoff_initial_ms = source.backoff_initial_ms;
  o.backoff_max_ms = source.backoff_max_ms;
  return o;
}

SourceContext::SourceContext(std::string name, const SourceRuntimeOptions& options, Emitter& emitter)
    : name_(std::move(name)),
      options_(options),
      emitter_(emitter),
      backoff_(options.backoff_initial_ms, options.backoff_max_ms, backoff_seed(options)),
      log_limit_(emitter.clock(), kConnectLogsPerWindow, kConnectLogWindow) {}

SourceContext::InterruptScope::~InterruptScope() {
  if (ctx_ == nullptr) return;
  // Waits for a hook that is running: what it touches is released after this scope.
  std::lock_guard lock(ctx_->hook_mu_);
  ctx_->interrupt_ = nullptr;
}

void SourceContext::begin_run() {
  {
    std::lock_guard lock(hook_mu_);
    interrupt_ = nullptr;
  }
  std::lock_guard lock(mu_);
  stop_ = false;
  failures_ = 0;
  had_connection_ = false;
  awaiting_data_ = false;
  retry_at_us_ = 0;
  state_ = ComponentState::kStopped;
  detail_.clear();
}

void SourceContext::end_run() {
  state_ = ComponentState::kStopped;
  detail_.clear();
  emitter_.report_state(state_, "");
}

void SourceContext::request_stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  // Under hook_mu_ only, so the body's waits are not held up by a hook that blocks
  // briefly, and the body cannot release what the hook uses while it runs.
  std::lock_guard lock(hook_mu_);
  if (interrupt_) interrupt_();
}

bool SourceContext::stopping() const {
  std::lock_guard lock(mu_);
  return stop_;
}

bool SourceContext::wait_until(std::int64_t deadline_us) {
  std::unique_lock lock(mu_);
  while (!stop_ && clock().steady_us() < deadline_us) clock().wait_until(cv_, lock, deadline_us);
  return !stop_;
}

SourceContext::InterruptScope SourceContext::on_interrupt(std::function<void()> hook) {
  std::lock_guard lock(hook_mu_);
  interrupt_ = std::move(hook);
  if (stopping() && interrupt_) interrupt_();  // stop came before the hook: interrupt at once
  return InterruptScope(this);
}

bool SourceContext::wait_to_connect() {
  if (!wait_until(retry_at_us_)) return false;
  if (had_connection_) emitter_.count_reconnection();
  return true;
}

void SourceContext::connected(BackoffReset reset) {
  connected_at_us_ = steady_us();
  awaiting_data_ = reset == BackoffReset::kOnData;
  if (!awaiting_data_) reset_backoff();
  had_connection_ = true;
  set_state(ComponentState::kConnected);
}

void SourceContext::data_flowed() {
  if (!awaiting_data_) return;
  awaiting_data_ = false;
  reset_backoff();
}

void SourceContext::reset_backoff() {
  if (had_connection_ && failures_ > 0) {
    spdlog::info("source={} reconnected to {} after {} ms", name_, options_.endpoint,
                 (steady_us() - lost_at_us_) / 1000);
  }
  failures_ = 0;
}

void SourceContext::connection_failed(const Status& cause) {
  if (stopping()) return;  // cut short by our own stop: not the peer's failure
  if (awaiting_data_) {
    awaiting_data_ = false;
    const std::int64_t stable_us = std::int64_t{options_.backoff_max_ms} * 1000;
    if (steady_us() - connected_at_us_ >= stable_us) failures_ = 0;  // quiet, but not flapping
  }
  if (failures_ == 0) lost_at_us_ = steady_us();
  ++failures_;
  const auto delay = backoff_.delay(failures_);
  retry_at_us_ = steady_us() + std::chrono::duration_cast<std::chrono::microseconds>(delay).count();
  emitter_.count_error(cause.message());
  set_state(ComponentState::kConnecting, cause.message());
  static const auto logger = telemetry::get_logger("source");
  // Limited per cause: a peer that keeps refusing is logged a few times a minute, while a
  // new cause (the watchdog after refusals, say) is always seen.
  log_limit_.log(*logger, spdlog::level::warn, cause.message(), "source={} not connected to {}: {}; retrying in about {} ms",
                 name_, options_.endpoint, cause.message(), delay.count());
}

void SourceContext::set_state(ComponentState state, std::string_view detail) {
  if (state == state_ && detail == detail_) return;
  state_ = state;
  detail_ = std::string(detail);
  emitter_.report_state(state, detail);
}

bool SourceContext::publish(SampleBatch&& batch, AckCallback on_durable) {
  if (batch.empty()) return true;
  return emitter_.publish(std::move(batch), std::move(on_durable)).is_ok();
}

Sample SourceContext::bad_sample(const std::string& address, const std::shared_ptr<const TagMeta>& meta,
                                 const ProtocolStatus& status) const {
  Sample s;
  s.address = address;
  s.meta = meta;
  s.receive_time = clock().now_us();
  s.status = status;
  return s;
}

SourceLoop::SourceLoop(Source& source, Emitter& emitter, SourceRuntimeOptions options)
    : source_(&source), emitter_(emitter), ctx_(std::make_unique<SourceContext>(source.name(), options, emitter)) {}

SourceLoop::~SourceLoop() { stop(); }

Status SourceLoop::start() {
  if (thread_.joinable()) return {StatusCode::kFailedPrecondition, "source " + source_->name() + " is running"};
  ctx_->begin_run();
  thread_ = std::thread([this] {
    source_->run(*ctx_);
    ctx_->end_run();
  });
  return Status::ok();
}

void SourceLoop::request_stop() {
  if (thread_.joinable()) ctx_->request_stop();
}

void SourceLoop::stop() {
  request_stop();
  if (thread_.joinable()) thread_.join();
}

Status SourceLoop::set_source(Source& source, SourceRuntimeOptions options) {
  if (thread_.joinable()) return {StatusCode::kFailedPrecondition, "source " + source_->name() + " is running"};
  source_ = &source;
  ctx_ = std::make_unique<SourceContext>(source.name(), options, emitter_);
  return Status::ok();
}

}  // namespace uc::pipeline
