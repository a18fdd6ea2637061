#include "sinks/zerobus/zerobus_sink.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/record_codec.h"
#include "core/utf8.h"
#include "net/address.h"
#include "net/connection.h"
#include "record.pb.h"
#include "zerobus_service.grpc.pb.h"

namespace uc::sinks::zerobus {

namespace zb = databricks::zerobus;

namespace {

// The CA bundle: $SSL_CERT_FILE when set (OpenSSL's and curl's override, e.g. for a
// corporate TLS proxy), else the system's.
std::string system_roots() {
  if (const char* env = std::getenv("SSL_CERT_FILE"); env != nullptr && *env != '\0') {
    std::ifstream in(env);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();  // empty if unreadable: gRPC then falls back to its built-in roots
  }
  for (const char* path : {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"}) {
    std::ifstream in(path);
    if (!in) continue;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  return {};  // gRPC falls back to its own default roots
}

// The schema check: what the table's STRING columns cannot hold is rejected here, not
// by the server (which would fail the whole stream).
std::string schema_problem(const Record& r) {
  auto bad = [](std::string_view column, std::string_view v) -> std::string {
    if (uc::is_valid_utf8(v)) return {};
    return "column " + std::string(column) + " is not valid UTF-8 (a STRING column)";
  };
  std::string p;
  if (!(p = bad("value_str", r.value_str)).empty()) return p;
  if (r.tag) {
    const TagInfo& t = *r.tag;
    const std::pair<const char*, const std::string*> cols[] = {
        {"source_name", &t.source_name}, {"protocol", &t.protocol}, {"endpoint", &t.endpoint},
        {"tag_path", &t.tag_path},       {"tag_name", &t.tag_name}, {"address", &t.address},
        {"site", &t.site},               {"area", &t.area},         {"line", &t.line},
        {"equipment", &t.equipment},     {"signal_type", &t.signal_type}, {"unit", &t.unit}};
    for (const auto& [name, value] : cols) {
      if (!(p = bad(name, *value)).empty()) return p;
    }
    for (const auto& [k, v] : t.metadata) {
      if (!uc::is_valid_utf8(k) || !uc::is_valid_utf8(v)) return "metadata entry is not valid UTF-8 (a MAP<STRING,STRING> column)";
    }
  }
  for (const auto& [k, v] : r.metadata) {
    if (!uc::is_valid_utf8(k) || !uc::is_valid_utf8(v)) return "metadata entry is not valid UTF-8 (a MAP<STRING,STRING> column)";
  }
  return {};
}

Status retryable(const Status& s) {
  if (s.is_retryable()) return s;
  return Status(StatusCode::kUnavailable, s.to_string());
}

}  // namespace

// One gRPC EphemeralStream call. The worker thread writes; a reader thread reads and
// queues responses; the worker waits on them with a deadline.
class Call {
 public:
  enum class Got { kResponse, kEnded, kTimeout };

  Call(const Options& o, const std::string& token) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one connection per stream
    args.SetString(GRPC_ARG_PRIMARY_USER_AGENT_STRING, "unified-connector/0.1");
    std::shared_ptr<grpc::ChannelCredentials> creds;
    if (o.tls) {
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = system_roots();
      creds = grpc::SslCredentials(ssl);
    } else {
      creds = grpc::InsecureChannelCredentials();
    }
    channel_ = grpc::CreateCustomChannel(grpc_target(o.endpoint), creds, args);
    stub_ = zb::Zerobus::NewStub(channel_);
    ctx_.AddMetadata("authorization", "Bearer " + token);
    ctx_.AddMetadata("x-databricks-zerobus-table-name", o.table);
    rw_ = stub_->EphemeralStream(&ctx_);
    reader_ = std::thread([this] { read_loop(); });
  }

  ~Call() { finish(/*cancel=*/true); }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  bool write(const zb::EphemeralStreamRequest& r) { return rw_->Write(r); }

  Got next(zb::EphemeralStreamResponse& out, std::int64_t deadline_us, const Clock& clock) {
    std::unique_lock lock(mu_);
    while (inbox_.empty() && !ended_) {
      std::int64_t left = deadline_us - clock.now_us();
      if (left <= 0) return Got::kTimeout;
      cv_.wait_for(lock, std::chrono::microseconds(std::min<std::int64_t>(left, 100'000)));
    }
    if (!inbox_.empty()) {
      out = std::move(inbox_.front());
      inbox_.pop_front();
      return Got::kResponse;
    }
    return Got::kEnded;
  }

  // Half-closes and waits (bounded) for the server to end the call: a clean close.
  void close_gracefully(std::chrono::milliseconds wait) {
    rw_->WritesDone();
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [this] { return ended_; });
  }

  // Ends the call (cancelling it when asked or when it has not ended) and returns its status.
  Status finish(bool cancel) {
    if (finished_) return status_;
    bool ended;
    {
      std::lock_guard lock(mu_);
      ended = ended_;
    }
    if (cancel || !ended) ctx_.TryCancel();
    if (reader_.joinable()) reader_.join();
    grpc::Status st = rw_->Finish();
    finished_ = true;
    status_ = status_from_grpc(static_cast<int>(st.error_code()), st.error_message());
    return status_;
  }

 private:
  void read_loop() {
    zb::EphemeralStreamResponse r;
    while (rw_->Read(&r)) {
      std::lock_guard lock(mu_);
      inbox_.push_back(std::move(r));
      r = zb::EphemeralStreamResponse();
      cv_.notify_all();
    }
    std::lock_guard lock(mu_);
    ended_ = true;
    cv_.notify_all();
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<zb::Zerobus::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<zb::EphemeralStreamRequest, zb::EphemeralStreamResponse>> rw_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<zb::EphemeralStreamResponse> inbox_;
  bool ended_ = false;
  bool finished_ = false;
  Status status_;
};

ZerobusSink::ZerobusSink(Options options, std::shared_ptr<TokenProvider> tokens, const Clock& clock)
    : options_(std::move(options)), tokens_(std::move(tokens)), clock_(clock) {
  google::protobuf::DescriptorProto dp;
  unified_connector::v1::OtRecord::descriptor()->CopyTo(&dp);
  descriptor_ = dp.SerializeAsString();
}

ZerobusSink::~ZerobusSink() { stop(); }

Status ZerobusSink::start() {
  // Connections open lazily on the first batch, so a down server only delays delivery.
  return Status::ok();
}

void ZerobusSink::stop() { close_stream(Status::ok()); }

void ZerobusSink::set_state(const char* s) {
  std::lock_guard lock(stats_mu_);
  stats_.state = s;
}

void ZerobusSink::note_error(const Status& s) {
  std::lock_guard lock(stats_mu_);
  stats_.last_error = s.to_string();
}

Status ZerobusSink::open_stream() {
  close_stream(Status::ok());
  const std::int64_t now = clock_.now_us();
  auto token = tokens_->get(options_.table, now);
  if (!token.is_ok()) {
    note_error(token.status());
    set_state("failed");
    return token.status();
  }
  call_ = std::make_unique<Call>(options_, *token);
  close_signalled_ = false;
  session_ = std::make_unique<StreamSession>(now, options_.ack_timeout_ms * 1000, options_.create_timeout_ms * 1000);
  zb::EphemeralStreamRequest req;
  auto* create = req.mutable_create_stream();
  create->set_table_name(options_.table);
  if (options_.format == RecordFormat::kProto) {
    create->set_record_type(zb::PROTO);
    create->set_descriptor_proto(descriptor_);
  } else {
    create->set_record_type(zb::JSON);
  }
  if (!call_->write(req)) {
    Status s = call_->finish(false);
    if (s.is_ok()) s = unavailable("stream ended before create_stream was sent");
    close_stream(s);
    return s;
  }
  while (true) {
    zb::EphemeralStreamResponse resp;
    auto deadline = session_->deadline_us();
    Call::Got got = call_->next(resp, deadline.value_or(clock_.now_us()), clock_);
    StreamSession::Event ev;
    if (got == Call::Got::kResponse) {
      ev = session_->on_response(resp, clock_.now_us());
    } else if (got == Call::Got::kEnded) {
      ev = session_->on_end(call_->finish(false));
    } else {
      ev = session_->on_time(clock_.now_us());
    }
    if (ev.kind == StreamSession::Event::Kind::kCreated) break;
    if (ev.kind == StreamSession::Event::Kind::kError) {
      Status s = ev.error;
      // The next stream starts with a fresh token (issue 7): a token the server may have
      // revoked is never reused after a failure.
      if (!is_data_fault(s)) tokens_->invalidate(options_.table);
      close_stream(s);
      return Status(s.code(), "create_stream on " + options_.table + ": " + s.message());
    }
  }
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.streams_opened;
    stats_.stream_id = session_->stream_id();
    stats_.state = "open";
  }
  spdlog::debug("zerobus table={} stream {} opened", options_.table, session_->stream_id());
  return Status::ok();
}

void ZerobusSink::close_stream(const Status& why) {
  if (!call_) return;
  if (why.is_ok() && session_ && session_->phase() != StreamSession::Phase::kFailed && session_->all_acked()) {
    call_->close_gracefully(std::chrono::milliseconds(1000));
  }
  call_->finish(!why.is_ok());
  call_.reset();
  session_.reset();
  std::lock_guard lock(stats_mu_);
  stats_.stream_id.clear();
  if (!why.is_ok()) {
    ++stats_.stream_resets;
    stats_.last_error = why.to_string();
    stats_.state = "failed";
  } else {
    stats_.state = "idle";
  }
}

void ZerobusSink::drain_idle() {
  while (call_ && session_) {
    zb::EphemeralStreamResponse resp;
    Call::Got got = call_->next(resp, clock_.now_us(), clock_);  // does not wait
    if (got == Call::Got::kTimeout) return;
    StreamSession::Event ev;
    if (got == Call::Got::kResponse) {
      ev = session_->on_response(resp, clock_.now_us());
    } else {
      ev = session_->on_end(call_->finish(false));
      if (ev.kind != StreamSession::Event::Kind::kError) {
        close_stream(Status::ok());  // a clean end with everything acked
        return;
      }
    }
    if (ev.kind == StreamSession::Event::Kind::kCloseSignal) {
      close_signalled_ = true;
      std::lock_guard lock(stats_mu_);
      ++stats_.close_signals;
      stats_.state = "closing";
    } else if (ev.kind == StreamSession::Event::Kind::kError) {
      if (got == Call::Got::kResponse) {
        std::lock_guard lock(stats_mu_);
        ++stats_.protocol_errors;
      }
      close_stream(ev.error);
      return;
    }
  }
}

Status ZerobusSink::deliver(const std::vector<std::string>& payloads, const std::vector<std::size_t>& idx) {
  bool server_closed = false;
  Status s = deliver_once(payloads, idx, &server_closed);
  if (s.is_ok() || !server_closed) return s;
  return deliver_once(payloads, idx, &server_closed);
}

Status ZerobusSink::deliver_once(const std::vector<std::string>& payloads, const std::vector<std::size_t>& idx,
                                 bool* server_closed) {
  drain_idle();
  if (!session_ || !session_->can_send()) {
    Status s = open_stream();
    if (!s.is_ok()) return s;
  }
  zb::EphemeralStreamRequest req;
  auto* batch = req.mutable_ingest_record_batch();
  const std::int64_t offset = session_->next_offset();
  batch->set_offset_id(offset);
  std::size_t bytes = 0;
  if (options_.format == RecordFormat::kProto) {
    auto* recs = batch->mutable_proto_encoded_batch();
    for (std::size_t i : idx) {
      recs->add_records(payloads[i]);
      bytes += payloads[i].size();
    }
  } else {
    auto* recs = batch->mutable_json_batch();
    for (std::size_t i : idx) {
      recs->add_records(payloads[i]);
      bytes += payloads[i].size();
    }
  }
  if (!call_->write(req)) {
    Status s = call_->finish(false);
    if (s.is_ok() || close_signalled_) {
      *server_closed = true;
      close_stream(Status::ok());
      return unavailable("stream ended by the server");
    }
    close_stream(s);
    return s;
  }
  const std::int64_t sent_at = clock_.now_us();
  session_->sent(sent_at);
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.requests_sent;
  }
  while (true) {
    zb::EphemeralStreamResponse resp;
    auto deadline = session_->deadline_us();
    Call::Got got = call_->next(resp, deadline.value_or(clock_.now_us()), clock_);
    const std::int64_t now = clock_.now_us();
    StreamSession::Event ev;
    bool from_response = false;
    bool ended_ok = false;
    if (got == Call::Got::kResponse) {
      ev = session_->on_response(resp, now);
      from_response = true;
    } else if (got == Call::Got::kEnded) {
      Status end = call_->finish(false);
      ended_ok = end.is_ok();
      ev = session_->on_end(end);
    } else {
      ev = session_->on_time(now);
    }
    switch (ev.kind) {
      case StreamSession::Event::Kind::kAcked:
        if (session_->acked() >= offset) {
          std::lock_guard lock(stats_mu_);
          stats_.records_acked += idx.size();
          stats_.bytes_acked += bytes;
          latencies_.push_back(static_cast<double>(now - sent_at) / 1e6);
          if (latencies_.size() > 1024) latencies_.pop_front();
          if (session_->phase() == StreamSession::Phase::kClosing) stats_.state = "closing";
          return Status::ok();
        }
        break;
      case StreamSession::Event::Kind::kCloseSignal: {
        close_signalled_ = true;
        std::lock_guard lock(stats_mu_);
        ++stats_.close_signals;
        stats_.state = "closing";
        spdlog::info("zerobus table={} stream {}: server close signal ({} ms); finishing in-flight requests",
                     options_.table, session_->stream_id(), ev.close_in_us / 1000);
        break;
      }
      case StreamSession::Event::Kind::kError: {
        Status s = ev.error;
        if (!from_response && (ended_ok || (close_signalled_ && !is_data_fault(s)))) {
          // The server retired the stream on purpose (it announced it, or ended the
          // call cleanly) with our request unacked: send it again on a new stream.
          *server_closed = true;
          close_stream(Status::ok());
          return s;
        }
        {
          std::lock_guard lock(stats_mu_);
          if (from_response) ++stats_.protocol_errors;
          if (s.code() == StatusCode::kDeadlineExceeded) ++stats_.ack_timeouts;
        }
        // A failed stream's successor gets a fresh token; data faults (poison isolation
        // splits a batch over many streams) keep it.
        if (!is_data_fault(s)) tokens_->invalidate(options_.table);
        close_stream(s);
        return s;
      }
      case StreamSession::Event::Kind::kCreated:
      case StreamSession::Event::Kind::kNone:
        if (got == Call::Got::kEnded) {
          // Ended cleanly with everything acked (cannot be: ours is not). Defensive.
          if (session_->acked() >= offset) return Status::ok();
          Status s = unavailable("stream ended before the ack");
          close_stream(s);
          return s;
        }
        break;
    }
  }
}

void ZerobusSink::deliver_isolating(const std::vector<std::string>& payloads, std::vector<std::size_t> idx,
                                    std::vector<pipeline::Rejection>& rejected, Status& retry) {
  Status s = deliver(payloads, idx);
  if (s.is_ok()) return;
  if (!is_data_fault(s)) {
    retry = s;
    return;
  }
  if (idx.size() == 1) {
    rejected.push_back({idx[0], "zerobus rejected the record: " + s.to_string()});
    return;
  }
  std::vector<std::size_t> right(idx.begin() + static_cast<std::ptrdiff_t>(idx.size() / 2), idx.end());
  idx.resize(idx.size() / 2);
  deliver_isolating(payloads, std::move(idx), rejected, retry);
  if (!retry.is_ok()) return;
  deliver_isolating(payloads, std::move(right), rejected, retry);
}

pipeline::WriteResult ZerobusSink::write(const std::vector<Record>& batch) {
  std::vector<std::string> payloads(batch.size());
  std::vector<pipeline::Rejection> rejected;
  std::vector<std::size_t> idx;
  idx.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (std::string p = schema_problem(batch[i]); !p.empty()) {
      rejected.push_back({i, "zerobus schema check: " + p});
      continue;
    }
    if (options_.format == RecordFormat::kProto) {
      append_record_proto(payloads[i], batch[i]);
    } else {
      append_record_json(payloads[i], batch[i]);
    }
    if (payloads[i].size() > options_.max_record_bytes) {
      rejected.push_back({i, "zerobus schema check: record is " + std::to_string(payloads[i].size()) +
                                 " bytes, over the " + std::to_string(options_.max_record_bytes) + "-byte limit"});
      payloads[i].clear();
      continue;
    }
    idx.push_back(i);
  }
  Status retry;
  if (!idx.empty()) deliver_isolating(payloads, std::move(idx), rejected, retry);
  {
    std::lock_guard lock(stats_mu_);
    ++(retry.is_ok() ? stats_.batches_sent : stats_.batches_failed);
    if (retry.is_ok()) stats_.records_rejected += rejected.size();
  }
  if (!retry.is_ok()) return pipeline::WriteResult::retry(retryable(retry));
  if (rejected.empty()) return pipeline::WriteResult::delivered();
  std::sort(rejected.begin(), rejected.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return pipeline::WriteResult::partial(std::move(rejected));
}

SinkStats ZerobusSink::stats() const {
  std::lock_guard lock(stats_mu_);
  SinkStats s = stats_;
  if (!latencies_.empty()) {
    std::vector<double> v(latencies_.begin(), latencies_.end());
    std::sort(v.begin(), v.end());
    s.ack_p50_s = v[v.size() / 2];
    s.ack_p99_s = v[std::min(v.size() - 1, v.size() * 99 / 100)];
  }
  return s;
}

nlohmann::json ZerobusSink::diagnose() const {
  using Steady = std::chrono::steady_clock;
  nlohmann::json steps = nlohmann::json::array();
  auto add = [&](const char* name, bool ok, const std::string& detail, Steady::time_point t0) {
    double ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
    steps.push_back({{"step", name}, {"ok", ok}, {"detail", detail}, {"ms", ms}});
    return ok;
  };
  const std::string target = grpc_target(options_.endpoint);
  const std::string host = target.substr(0, target.rfind(':'));
  const std::string port = target.substr(target.rfind(':') + 1);
  nlohmann::json out = {{"table", options_.table}, {"endpoint", target}, {"tls", options_.tls}};

  auto t0 = Steady::now();
  const auto addresses = net::resolve(host, port);
  bool ok = add("dns", addresses.is_ok(), addresses.is_ok() ? "resolved " + host : addresses.status().message(), t0);
  if (ok) {
    t0 = Steady::now();
    const auto probe = net::Connection::connect(*addresses, host, net::deadline_in_ms(3000));
    ok = add("tcp", probe.is_ok(), probe.is_ok() ? "connected to " + target : probe.status().message(), t0);
  }
  std::string token;
  if (ok) {
    t0 = Steady::now();
    auto t = tokens_->fetch(options_.table, clock_.now_us());
    ok = add("token", t.is_ok(), t.is_ok() ? "token issued, expires in " + std::to_string(t->lifetime_us / 1'000'000) + " s"
                                           : t.status().to_string(), t0);
    if (ok) token = t->access_token;
  }
  if (ok) {
    t0 = Steady::now();
    Call call(options_, token);
    zb::EphemeralStreamRequest req;
    auto* create = req.mutable_create_stream();
    create->set_table_name(options_.table);
    create->set_record_type(options_.format == RecordFormat::kProto ? zb::PROTO : zb::JSON);
    if (options_.format == RecordFormat::kProto) create->set_descriptor_proto(descriptor_);
    std::string detail;
    bool opened = false;
    if (call.write(req)) {
      zb::EphemeralStreamResponse resp;
      auto got = call.next(resp, clock_.now_us() + options_.create_timeout_ms * 1000, clock_);
      if (got == Call::Got::kResponse && resp.has_create_stream_response()) {
        opened = true;
        detail = "stream " + resp.create_stream_response().stream_id() + " opened and closed";
        call.close_gracefully(std::chrono::milliseconds(2000));
      } else if (got == Call::Got::kTimeout) {
        detail = "no create_stream_response within " + std::to_string(options_.create_timeout_ms) + " ms";
      } else if (got == Call::Got::kResponse) {
        detail = "unexpected first response";
      }
    }
    Status end = call.finish(!opened);
    if (!opened && detail.empty()) detail = end.to_string();
    ok = add("stream", opened, detail, t0);
  }
  out["ok"] = ok;
  out["steps"] = steps;
  return out;
}

}  // namespace uc::sinks::zerobus
