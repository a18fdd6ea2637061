#include "sources/mqtt/mqtt_source.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <random>
#include <span>
#include <variant>
#include <vector>

#include "net/connection.h"
#include "pipeline/source_loop.h"
#include "protocols/mqtt/session.h"
#include "sources/mqtt/ack_inbox.h"
#include "sources/mqtt/payload.h"
#include "sources/mqtt/sparkplug_host.h"
#include "telemetry/log.h"

namespace uc::sources::mqtt {
namespace {

namespace wire = protocols::mqtt;

constexpr std::int64_t kConnectTimeoutMs = 5000;  // TCP connect and TLS handshake together
constexpr std::int64_t kSendTimeoutMs = 10000;    // a broker that takes no bytes for this long is gone
constexpr std::int64_t kGoodbyeTimeoutMs = 1000;  // STATE offline and DISCONNECT at stop
constexpr net::DeadlineUs kNoWait = 0;            // a past deadline: one attempt, no waiting
constexpr std::size_t kReadBufferBytes = 64 * 1024;

std::string random_suffix() {
  std::random_device rd;
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 8; ++i) s += kHex[rd() % 16];
  return s;
}

std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 200)) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

wire::SessionOptions session_options(const Options& o, const std::string& client_id, const SparkplugHost& host) {
  wire::SessionOptions s;
  s.connect.version = o.version;
  s.connect.client_id = client_id;
  s.connect.clean_start = o.clean_session;
  s.connect.keep_alive_s = static_cast<std::uint16_t>(o.keep_alive_s);
  s.connect.session_expiry_s = o.clean_session ? 0 : o.session_expiry_s;
  if (o.username.is_set()) s.connect.username = o.username.value;
  if (o.password.is_set()) s.connect.password = o.password.value;
  for (const auto& t : o.topics) s.subscriptions.emplace_back(t, o.qos);
  for (const auto& t : host.subscriptions()) s.subscriptions.emplace_back(t, 1);
  s.max_packet_bytes = o.max_packet_bytes;
  return s;
}

net::TlsOptions tls_options(const Tls& t) {
  net::TlsOptions n;
  n.enabled = t.enabled;
  n.ca_file = t.ca_file;
  n.cert_file = t.cert_file;
  n.key_file = t.key_file;
  return n;
}

PayloadFormat format_of(PayloadFormat configured, const wire::Message& m) {
  if (configured != PayloadFormat::kAuto) return configured;
  if (m.topic.rfind("spBv1.0/", 0) == 0) return PayloadFormat::kSparkplugB;
  const std::string_view payload(reinterpret_cast<const char*>(m.payload.data()), m.payload.size());
  const auto first = payload.find_first_not_of(" \t\r\n");
  const bool json = first != std::string_view::npos && (payload[first] == '{' || payload[first] == '[');
  return json ? PayloadFormat::kJson : PayloadFormat::kText;
}

Status stopped() { return {StatusCode::kCancelled, "stopped"}; }

// One run of the source on the runtime's thread: broker connections one after another,
// each driving the sans-IO session (protocols/mqtt/session.h) until it fails or the
// source stops. Everything here is single-threaded; only the AckInbox is shared.
class SessionDriver {
 public:
  SessionDriver(const std::string& source_name, const Options& o, const std::string& client_id,
                pipeline::SourceContext& ctx, SparkplugHost& host, std::shared_ptr<AckInbox> inbox,
                std::atomic<std::uint64_t>* oversized)
      : source_name_(source_name),
        o_(o),
        ctx_(ctx),
        host_(host),
        inbox_(std::move(inbox)),
        oversized_(oversized),
        session_(session_options(o, client_id, host)),
        rlog_(ctx.clock(), 5, std::chrono::seconds(10)),
        buffer_(kReadBufferBytes) {}

  void run() {
    ctx_.set_state(pipeline::ComponentState::kConnecting);
    while (ctx_.wait_to_connect()) {
      Status st = connect();
      if (st.is_ok()) st = serve();
      if (ctx_.stopping() || st.code() == StatusCode::kCancelled) break;
      conn_.close();
      session_.on_connection_lost();
      // Acks still due for that connection are dropped by the session (an earlier
      // generation): the broker redelivers those messages to the next connection.
      host_.on_connection_lost();
      ctx_.connection_failed(st);
    }
    goodbye();
  }

 private:
  std::int64_t now() const { return ctx_.steady_us(); }

  // A new connection (deadline for TCP and TLS together), then the CONNECT.
  Status connect() {
    auto c = net::Connection::connect(o_.host, o_.port, net::deadline_in_ms(kConnectTimeoutMs), tls_options(o_.tls),
                                      inbox_->waker());
    if (!c.is_ok()) return c.status();
    conn_ = std::move(*c);
    return apply(session_.start(now(), host_.will()));
  }

  // Until the connection fails (its status) or the source stops (kCancelled).
  Status serve() {
    for (;;) {
      if (Status st = step(); !st.is_ok()) return st;
    }
  }

  // One wait (readable, the session's next deadline, an ack or stop) and what it brought.
  // Deadlines are the session's steady time: the net waits' epoch under the system clock.
  Status step() {
    const net::WaitResult w = inbox_->wait_readable(conn_, session_.next_deadline().value_or(net::kNoDeadline));
    if (ctx_.stopping()) return stopped();
    if (w == net::WaitResult::kFailed) return unavailable(std::string("poll: ") + std::strerror(errno));
    if (w == net::WaitResult::kReady) {
      if (Status st = read(); !st.is_ok()) return st;
    }
    for (const wire::AckToken& token : inbox_->take()) {
      if (Status st = apply(session_.on_durable(token, now())); !st.is_ok()) return st;
    }
    const auto due = session_.next_deadline();
    return due && now() >= *due ? apply(session_.on_tick(now())) : Status::ok();
  }

  // The socket is readable: reads what is there without waiting (so a stop never cuts a
  // read short) and feeds it to the session.
  Status read() {
    const net::ReadResult r = conn_.read_some(std::span(buffer_), kNoWait);
    switch (r.kind) {
      case net::ReadResult::Kind::kData:
        return apply(session_.on_bytes(buffer_.data(), r.size, now()));
      case net::ReadResult::Kind::kTimedOut:
        return Status::ok();  // TLS: no whole record yet
      case net::ReadResult::Kind::kClosed:
        return unavailable("connection closed by the broker");
      default:
        return r.status;
    }
  }

  // What a session call returned: every Send in order, then its events.
  Status apply(wire::Output out) {
    if (Status st = write(out.sends, net::deadline_in_ms(kSendTimeoutMs), inbox_->waker()); !st.is_ok()) return st;
    for (wire::Event& e : out.events) {
      if (Status st = on_event(e); !st.is_ok()) return st;
    }
    return Status::ok();
  }

  // A send that fails or is cut short leaves the stream unusable: it is closed at once.
  Status write(const std::vector<wire::Send>& sends, net::DeadlineUs deadline, const net::Waker* waker) {
    for (const wire::Send& s : sends) {
      if (Status st = conn_.send_all(s.bytes, deadline, waker); !st.is_ok()) {
        conn_.close();
        return st;
      }
    }
    return Status::ok();
  }

  Status on_event(wire::Event& e) {
    if (auto* m = std::get_if<wire::Message>(&e)) return on_message(*m);
    if (auto* big = std::get_if<wire::Oversized>(&e)) return on_oversized(*big);
    if (auto* f = std::get_if<wire::Failed>(&e)) return f->status;
    if (auto* r = std::get_if<wire::SubscriptionRefused>(&e)) {
      ctx_.count_error("subscribe");
      ctx_.set_state(pipeline::ComponentState::kDegraded, "broker refused the subscription to " + r->filter);
      return Status::ok();
    }
    // wire::Connected: the SUBSCRIBE has been sent. The back-off starts again only once a
    // message is taken: a broker that drops us after every CONNACK is retried ever slower.
    ctx_.connected(pipeline::SourceContext::BackoffReset::kOnData);
    return publish_own(host_.on_connected());
  }

  // A message over max_packet_bytes, already read past by the codec: counted, logged with
  // its topic and size, and acknowledged, so the broker does not send it again on every
  // reconnect of a persistent session (which would stall everything queued behind it).
  Status on_oversized(const wire::Oversized& m) {
    oversized_->fetch_add(1, std::memory_order_relaxed);
    ctx_.count_error("message of " + std::to_string(m.size) + " bytes over max_packet_bytes (" +
                     std::to_string(o_.max_packet_bytes) + ") skipped");
    rlog_.log(*telemetry::get_logger("mqtt"), spdlog::level::warn, "oversized",
              "source {}: skipped a message of {} bytes on {}: over max_packet_bytes ({}); acknowledged, not delivered",
              source_name_, m.size, printable(m.topic), o_.max_packet_bytes);
    ctx_.data_flowed();
    return m.ack ? apply(session_.on_durable(*m.ack, now())) : Status::ok();
  }

  Status on_message(wire::Message& m) {
    ctx_.data_flowed();
    Decoded d = decode(m, ctx_.clock().now_us());
    if (Status st = publish_own(d.outgoing); !st.is_ok()) return st;
    if (!d.samples.is_ok()) {
      bad_message(m.topic, d.samples.status());
      dead_letter(m, d.samples.status());
      return acknowledge_now(m);
    }
    SampleBatch batch = std::move(*d.samples);
    if (batch.empty()) return acknowledge_now(m);
    pipeline::AckCallback on_durable;
    if (m.ack) on_durable = [inbox = inbox_, token = *m.ack](const pipeline::BatchOutcome&) { inbox->push(token); };
    return ctx_.publish(std::move(batch), std::move(on_durable)) ? Status::ok() : stopped();
  }

  // A message that cannot be used goes to the DLQ of the source's targets with its topic
  // (the address), its payload (bytes) and the reason, before it is acknowledged. If a
  // target cannot keep it, it is acknowledged all the same (a redelivery would fail the
  // same way): the lane counted it as dropped and logged it.
  void dead_letter(const wire::Message& m, const Status& why) {
    Sample s;
    s.address = is_valid_utf8(m.topic) ? m.topic : printable(m.topic);
    s.value = uc::Bytes{m.payload};
    s.receive_time = ctx_.clock().now_us();
    s.status = {ProtocolStatus::Kind::kCommError, 0, why.message()};
    if (Status st = ctx_.dead_letter(std::move(s), why.message()); !st.is_ok()) {
      rlog_.log(*telemetry::get_logger("mqtt"), spdlog::level::warn, "dlq", "source {}: message on {} not in every DLQ: {}",
                source_name_, printable(m.topic), st.message());
    }
  }

  // Messages that cannot be used are acknowledged at once: a redelivery would fail the same way.
  Status acknowledge_now(const wire::Message& m) {
    return m.ack ? apply(session_.on_durable(*m.ack, now())) : Status::ok();
  }

  struct Decoded {
    Result<SampleBatch> samples = SampleBatch{};
    std::vector<OutgoingMessage> outgoing;
  };

  Decoded decode(const wire::Message& m, TimestampUs now_us) {
    Decoded d;
    const std::string_view payload(reinterpret_cast<const char*>(m.payload.data()), m.payload.size());
    switch (format_of(o_.payload_format, m)) {
      case PayloadFormat::kSparkplugB: {
        HostResult r = host_.handle(m.topic, m.payload.data(), m.payload.size(), now_us);
        d.outgoing = std::move(r.outgoing);
        for (const auto& e : r.errors) bad_message(m.topic, e, false);
        d.samples = std::move(r.samples);
        show_refused_births();
        return d;
      }
      case PayloadFormat::kJson:
        d.samples = map_json(m.topic, payload, o_.json, now_us);
        return d;
      default:
        d.samples = map_text(m.topic, payload, now_us);
        return d;
    }
  }

  // While an edge node's last birth stands refused the source is degraded with the reason
  // (its data is not being read); connected again once every node's birth is accepted.
  void show_refused_births() {
    if (const std::optional<std::string> why = host_.refused()) {
      ctx_.set_state(pipeline::ComponentState::kDegraded, *why);
      degraded_by_birth_ = true;
    } else if (degraded_by_birth_) {
      degraded_by_birth_ = false;
      ctx_.set_state(pipeline::ComponentState::kConnected);
    }
  }

  // Our own publications (Sparkplug STATE, rebirth NCMD). One the session cannot take
  // (no packet id free) is counted and logged; the connection goes on.
  Status publish_own(const std::vector<OutgoingMessage>& messages) {
    for (const OutgoingMessage& m : messages) {
      auto out = session_.publish({m.topic, m.payload, m.qos, m.retain}, now());
      if (!out.is_ok()) {
        ctx_.count_error(out.status().message());
        rlog_.log(*telemetry::get_logger("mqtt"), spdlog::level::warn, "publish", "source {}: cannot publish on {}: {}",
                  source_name_, printable(m.topic), out.status().message());
        continue;
      }
      if (Status st = apply(std::move(*out)); !st.is_ok()) return st;
    }
    return Status::ok();
  }

  // A message (or, with dropped = false, a part of it) that could not be used: counted
  // with its reason as the source's last error, logged with a rate limit.
  void bad_message(const std::string& topic, const Status& st, bool dropped = true) {
    ctx_.count_error(st.message());
    rlog_.log(*telemetry::get_logger("mqtt"), spdlog::level::warn, "decode", "source {}: {} on {}: {}", source_name_,
              dropped ? "dropped message" : "problem in message", printable(topic), st.message());
  }

  // At stop: STATE offline and DISCONNECT (which keeps a persistent session and discards
  // the will), with a short deadline the stop cannot cut short; then the socket closes.
  void goodbye() {
    if (conn_.is_open() && session_.connected()) {
      std::vector<wire::Send> sends;
      for (const OutgoingMessage& m : host_.on_disconnecting()) {
        auto out = session_.publish({m.topic, m.payload, m.qos, m.retain}, now());
        if (out.is_ok()) std::move(out->sends.begin(), out->sends.end(), std::back_inserter(sends));
      }
      wire::Output bye = session_.close(now());
      std::move(bye.sends.begin(), bye.sends.end(), std::back_inserter(sends));
      (void)write(sends, net::deadline_in_ms(kGoodbyeTimeoutMs), nullptr);
    }
    session_.close(now());
    conn_.close();
  }

  const std::string& source_name_;
  const Options& o_;
  pipeline::SourceContext& ctx_;
  SparkplugHost& host_;
  std::shared_ptr<AckInbox> inbox_;
  std::atomic<std::uint64_t>* oversized_;  // the source's counter, outlives this run
  bool degraded_by_birth_ = false;          // the state says a Sparkplug birth was refused
  wire::ClientSession session_;
  net::Connection conn_;
  telemetry::RateLimitedLog rlog_;
  std::vector<std::uint8_t> buffer_;
};

}  // namespace

MqttSource::MqttSource(std::string name, Options options) : name_(std::move(name)), options_(std::move(options)) {}

std::vector<pipeline::ExtraCounter> MqttSource::extra_counters() const {
  auto c = sparkplug_counters_;
  return {
      {"sparkplug_rebirth_requests_total", "Sparkplug B rebirth requests (NCMD Node Control/Rebirth) sent.",
       [c] { return c->rebirths_requested.load(); }},
      {"sparkplug_seq_gaps_total", "Sparkplug B messages whose seq did not follow the previous one.",
       [c] { return c->seq_gaps.load(); }},
      {"sparkplug_unknown_aliases_total", "Sparkplug B metrics by an alias no birth defined.",
       [c] { return c->unknown_aliases.load(); }},
      {"sparkplug_births_refused_total",
       "Sparkplug B births refused (an alias given twice, a metric name not UTF-8).",
       [c] { return c->births_refused.load(); }},
      {"mqtt_oversized_messages_total",
       "MQTT messages over max_packet_bytes: read past, acknowledged and not delivered.",
       [o = oversized_] { return o->load(); }},
  };
}

void MqttSource::run(pipeline::SourceContext& ctx) {
  // Per run: batches of an earlier run that resolve late push into that run's inbox.
  auto inbox = std::make_shared<AckInbox>();
  if (Status st = inbox->status(); !st.is_ok()) {
    ctx.set_state(pipeline::ComponentState::kFailed, st.message());
    return;
  }
  auto interrupt = ctx.on_interrupt([inbox] { inbox->interrupt(); });
  const std::string client_id =
      options_.client_id.empty() ? "uc-" + name_ + "-" + random_suffix() : options_.client_id;
  SparkplugHost host(options_.sparkplug, ctx.clock(), sparkplug_counters_.get());
  SessionDriver(name_, options_, client_id, ctx, host, inbox, oversized_.get()).run();
  inbox->close();
}

}  // namespace uc::sources::mqtt
