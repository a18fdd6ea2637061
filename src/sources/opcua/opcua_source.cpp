#include "sources/opcua/opcua_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "clients/opcua/client.h"
#include "pipeline/source_loop.h"
#include "protocols/opcua/generated/status_codes.h"
#include "protocols/opcua/session_machine.h"
#include "sources/opcua/tags.h"
#include "sources/opcua/values.h"

namespace uc::sources::opcua {
namespace {

namespace ua = uc::opcua;
using clients::opcua::Client;
using clients::opcua::ClientOptions;
using pipeline::ComponentState;
using Action = ua::SessionAction;
using Kind = ua::SessionAction::Kind;
using Event = ua::SessionEvent;

// Deleting the subscription and closing the session at a stop take this long at most, all
// requests together, so a stop returns within it plus the request that was in flight.
constexpr std::int64_t kGoodbyeUs = 2'000'000;

ClientOptions client_options(const std::string& name, const Options& o) {
  ClientOptions co;
  co.endpoint_url = o.endpoint;
  co.timeout_ms = o.timeout_ms;
  co.session_timeout_ms = o.session_timeout_ms;
  co.requested_lifetime_ms = static_cast<std::uint32_t>(o.channel_lifetime_ms);
  co.session_name = "unified-connector " + name;
  co.username = o.security.username.value;
  co.password = o.security.password.value;
  return co;
}

ua::SessionSettings session_settings(const Options& o) {
  ua::SessionSettings s;
  s.subscribe = o.mode == Mode::kSubscription;
  s.publishing_interval_ms = o.publishing_interval_ms;
  s.keep_alive_count = static_cast<std::uint32_t>(std::max(o.keep_alive_count, 1));
  s.publish_requests = static_cast<std::size_t>(std::max(o.publish_requests, 1));
  s.timeout_ms = o.timeout_ms;
  s.polling_interval_ms = o.polling_interval_ms;
  return s;
}

// One run of the source: the session machine's actions done with the blocking client on
// the runtime's thread, the machine's events published, logged and counted.
class SessionDriver {
 public:
  SessionDriver(const std::string& name, const Options& options, pipeline::SourceContext& ctx,
                OpcuaSource::Counters& counters)
      : name_(name),
        options_(options),
        ctx_(ctx),
        counters_(counters),
        client_(client_options(name, options), ctx.clock()),
        machine_(session_settings(options)),
        resolver_(options, name),
        tags_(resolver_.configured()) {}

  void run() {
    // A stop cancels the blocked call softly: the session is still closed after it.
    auto interrupt = ctx_.on_interrupt([this] { client_.cancel(); });
    ctx_.set_state(ComponentState::kConnecting);
    for (;;) {
      if (ctx_.stopping()) begin_goodbye();
      if (goodbye_ && !goodbye_time_left()) break;
      const Action a = machine_.next(ctx_.steady_us(), client_.outstanding_publishes());
      if (a.kind == Kind::kDone) break;
      const bool go_on = perform(a) && handle_events();
      sync_counters();
      if (!go_on) begin_goodbye();
    }
    client_.disconnect();
  }

 private:
  // Does one action and feeds its answer back. False: stop (the stop came, or the
  // pipeline refused a batch).
  bool perform(const Action& a) {
    switch (a.kind) {
      case Kind::kConnect: return connect();
      case Kind::kReactivateSession: {
        const Status st = client_.reactivate_session();
        return answer(st, [&] { machine_.on_session_reactivated(st); });
      }
      case Kind::kOpenSession: {
        const Status st = client_.open_session();
        return answer(st, [&] { machine_.on_session_opened(st); });
      }
      case Kind::kResolveTags: return resolve_tags();
      case Kind::kCreateSubscription: {
        const auto r = client_.create_subscription(a.publishing_interval_ms, a.lifetime_count, a.max_keep_alive_count);
        return answer(r.status(), [&] { machine_.on_subscription_created(r); });
      }
      case Kind::kCreateMonitoredItems: return create_items(a.subscription_id);
      case Kind::kTransferSubscription: {
        const auto r = client_.transfer_subscriptions({a.subscription_id}, /*send_initial_values=*/true);
        return answer(r.status(), [&] { machine_.on_subscription_transferred(r); });
      }
      case Kind::kDeleteSubscription: {
        const Status st = client_.delete_subscriptions({a.subscription_id});
        return answer(st, [&] { machine_.on_subscription_deleted(st); });
      }
      case Kind::kRepublish: {
        auto r = client_.republish(a.subscription_id, a.sequence_number);
        const Status st = r.status();
        return answer(st, [&] { machine_.on_republished(std::move(r), ctx_.steady_us()); });
      }
      case Kind::kSendPublish: {
        const auto id = client_.send_publish(a.acks, a.timeout_hint_ms);
        return answer(id.status(), [&] { machine_.on_publish_sent(*id); });
      }
      case Kind::kWaitPublish: return wait_publish(a.deadline_us);
      case Kind::kRead: return read(a.deadline_us);
      case Kind::kDisconnect: return disconnect(a);
      case Kind::kCloseSession:
        (void)client_.close_session();
        machine_.on_session_closed();
        return true;
      case Kind::kDone: break;
    }
    return true;
  }

  // The answer of a call: a stop that cut it short ends the run (false); a failure that
  // lost the connection is on_connection_lost whatever the call was; anything else (an
  // answer, or a service-level failure on a live connection) goes to `typed`.
  template <typename Typed>
  bool answer(const Status& st, Typed&& typed) {
    if (!st.is_ok() && ctx_.stopping() && !goodbye_) return false;
    if (!st.is_ok() && !client_.connected()) {
      machine_.on_connection_lost(st);
    } else {
      typed();
    }
    return true;
  }

  bool connect() {
    if (!ctx_.wait_to_connect()) return false;
    const Status st = client_.connect();
    return answer(st, [&] {
      if (st.is_ok()) {
        machine_.on_connected(client_.has_session());
      } else {
        machine_.on_connection_lost(st);
      }
    });
  }

  bool resolve_tags() {
    auto fresh = resolver_.resolve(client_);
    if (!fresh) return answer(fresh.status(), [&] { machine_.on_tags_resolved(fresh.status(), false); });
    const bool same = same_tags(*fresh, tags_);
    tags_ = std::move(*fresh);
    reads_.clear();
    for (const Tag& t : tags_) {
      if (t.resolved) reads_.push_back(ua::ReadValueId{t.node, 13, std::nullopt, ua::QualifiedName{}});
    }
    machine_.on_tags_resolved(Status::ok(), same);
    return true;
  }

  // One monitored item per resolved tag; the items the server refuses are published as
  // bad samples with its StatusCode.
  bool create_items(std::uint32_t subscription_id) {
    const auto items = monitored_items(options_, tags_);
    const auto r = client_.create_monitored_items(subscription_id, items);
    if (!r) return answer(r.status(), [&] { machine_.on_monitored_items_created(r.status()); });
    SampleBatch rejected;
    for (std::size_t k = 0; k < r->size() && k < items.size(); ++k) {
      const auto code = (*r)[k].status_code.code;
      if (code >> 30 < 2) continue;
      const Tag& t = tags_[items[k].requested_parameters.client_handle];
      rejected.push_back(ctx_.bad_sample(t.address, t.meta, {ProtocolStatus::Kind::kOpcUa, code, ua::status::name(code)}));
    }
    machine_.on_monitored_items_created(Status::ok());
    return ctx_.publish(std::move(rejected));
  }

  bool wait_publish(std::int64_t deadline_us) {
    const auto wait_ms = static_cast<int>(std::clamp<std::int64_t>((deadline_us - ctx_.steady_us()) / 1000, 1, INT32_MAX));
    auto r = client_.wait_publish(wait_ms);
    const std::int64_t now = ctx_.steady_us();
    if (r) {
      machine_.on_publish_response(std::move(*r), now);
      return true;
    }
    const bool fault = r.status().code() == uc::StatusCode::kFailedPrecondition && client_.last_service_result() != 0;
    return answer(r.status(), [&] {
      if (fault) {
        machine_.on_publish_fault(client_.last_publish_request_id(), client_.last_service_result(), r.status(), now);
      } else {
        machine_.on_connection_lost(r.status());
      }
    });
  }

  // Polling: one Read of every resolved tag at `deadline_us`, one batch (unresolved tags
  // as bad samples in it).
  bool read(std::int64_t deadline_us) {
    if (!ctx_.wait_until(deadline_us)) return false;
    auto values = client_.read(reads_, ua::TimestampsToReturn::kBoth);
    const std::int64_t now_steady = ctx_.steady_us();
    if (!values) return answer(values.status(), [&] { machine_.on_read(values.status(), now_steady); });
    const TimestampUs now = ctx_.clock().now_us();
    SampleBatch batch;
    batch.reserve(tags_.size());
    std::size_t k = 0;
    for (Tag& t : tags_) {
      batch.push_back(t.resolved && k < values->size() ? to_sample(t.address, t.meta, (*values)[k++], now)
                                                       : unresolved_sample(t));
    }
    machine_.on_read(Status::ok(), now_steady);
    return ctx_.publish(std::move(batch));
  }

  // The connection is gone (the session may live on in the server): bad samples for
  // every tag; the next connect waits for the back-off.
  bool disconnect(const Action& a) {
    client_.disconnect();
    if (a.forget_session) client_.forget_session();
    machine_.on_disconnected();
    ctx_.connection_failed(a.reason);
    SampleBatch batch;
    const ProtocolStatus bad{ProtocolStatus::Kind::kCommError, 0, a.reason.message()};
    for (const Tag& t : tags_) batch.push_back(ctx_.bad_sample(t.address, t.meta, bad));
    return ctx_.publish(std::move(batch));
  }

  bool handle_events() {
    bool go_on = true;
    for (Event& e : machine_.take_events()) go_on = handle(e) && go_on;
    return go_on;
  }

  bool handle(Event& e) {
    switch (e.kind) {
      case Event::Kind::kReady: return ready(e.resumed);
      case Event::Kind::kData: return publish_data(e.items);
      case Event::Kind::kSessionNotReactivated:
        spdlog::info("source={} session not re-activated ({}); creating a new one", name_, e.detail);
        break;
      case Event::Kind::kTransferRefused:
        spdlog::info("source={} subscription {} not transferred ({}); creating a new one", name_, e.subscription_id,
                     e.detail);
        break;
      case Event::Kind::kGap: gap(e); break;
      case Event::Kind::kStatusChanged:
        spdlog::warn("source={} subscription {} status changed: {}; creating a new one", name_, e.subscription_id,
                     clients::opcua::status_text(e.code));
        ctx_.count_error("subscription status changed: " + clients::opcua::status_text(e.code));
        break;
      case Event::Kind::kSubscriptionGone:
        spdlog::warn("source={} subscription {} gone ({}); creating a new one", name_, e.subscription_id,
                     clients::opcua::status_text(e.code));
        break;
    }
    return true;
  }

  // Set up after a connect: unresolved tags are reported once per new session when
  // subscribing (a poll reports them in every batch).
  bool ready(bool resumed) {
    spdlog::info("source={} connected to {}: {} tags ({})", name_, options_.endpoint, tags_.size(),
                 resumed ? "session re-activated" : "new session");
    ctx_.connected();
    if (options_.mode != Mode::kSubscription || resumed) return true;
    SampleBatch unresolved;
    for (const Tag& t : tags_) {
      if (!t.resolved) unresolved.push_back(unresolved_sample(t));
    }
    return ctx_.publish(std::move(unresolved));
  }

  bool publish_data(std::vector<ua::MonitoredItemNotification>& items) {
    SampleBatch batch;
    batch.reserve(items.size());
    const TimestampUs now = ctx_.clock().now_us();
    for (auto& item : items) {
      if (item.client_handle >= tags_.size()) continue;
      Tag& t = tags_[item.client_handle];
      batch.push_back(to_sample(t.address, t.meta, item.value, now));
    }
    return ctx_.publish(std::move(batch));
  }

  void gap(const Event& e) {
    spdlog::info("source={} sequence gap {}..{}: {} notifications recovered with Republish, {} lost", name_, e.first,
                 e.last, e.recovered, e.lost);
    if (e.lost > 0) {
      ctx_.count_error("notifications " + std::to_string(e.first) + ".." + std::to_string(e.last) + ": " +
                       std::to_string(e.lost) + " lost (" + e.detail + ")");
    }
  }

  Sample unresolved_sample(const Tag& t) const {
    return ctx_.bad_sample(t.address, t.meta, {ProtocolStatus::Kind::kOpcUa, t.unresolved_code, t.unresolved_reason});
  }

  // Stopping: the machine deletes the subscription and closes the session, then says
  // kDone; all of it within kGoodbyeUs.
  void begin_goodbye() {
    if (goodbye_) return;
    goodbye_ = true;
    goodbye_until_us_ = ctx_.steady_us() + kGoodbyeUs;
    machine_.stop();
    client_.resume();
  }

  // False when the goodbye's time is up; else the next request waits at most what is left.
  bool goodbye_time_left() {
    const std::int64_t left_ms = (goodbye_until_us_ - ctx_.steady_us()) / 1000;
    if (left_ms <= 0) return false;
    client_.set_timeout_ms(static_cast<int>(std::min<std::int64_t>(left_ms, options_.timeout_ms)));
    return true;
  }

  // The source's counters outlive this run: they grow by what this run added.
  void sync_counters() {
    const ua::SessionCounters& now = machine_.counters();
    counters_.session_reactivations += now.session_reactivations - synced_.session_reactivations;
    counters_.subscription_transfers += now.subscription_transfers - synced_.subscription_transfers;
    counters_.subscriptions_created += now.subscriptions_created - synced_.subscriptions_created;
    counters_.notifications_republished += now.notifications_republished - synced_.notifications_republished;
    counters_.notifications_lost += now.notifications_lost - synced_.notifications_lost;
    synced_ = now;
    counters_.token_renewals += client_.token_renewals() - synced_renewals_;
    synced_renewals_ = client_.token_renewals();
  }

  const std::string& name_;
  const Options& options_;
  pipeline::SourceContext& ctx_;
  OpcuaSource::Counters& counters_;
  Client client_;
  ua::SessionMachine machine_;
  TagResolver resolver_;
  std::vector<Tag> tags_;
  std::vector<ua::ReadValueId> reads_;  // the resolved tags, in tag order
  bool goodbye_ = false;
  std::int64_t goodbye_until_us_ = 0;
  ua::SessionCounters synced_;
  std::uint64_t synced_renewals_ = 0;
};

}  // namespace

OpcuaSource::OpcuaSource(std::string name, Options options) : name_(std::move(name)), options_(std::move(options)) {}

void OpcuaSource::run(pipeline::SourceContext& ctx) { SessionDriver(name_, options_, ctx, *counters_).run(); }

std::vector<pipeline::ExtraCounter> OpcuaSource::extra_counters() const {
  auto c = counters_;
  return {
      {"opcua_session_reactivations_total", "OPC UA sessions re-activated on a new connection.",
       [c] { return c->session_reactivations.load(); }},
      {"opcua_subscription_transfers_total", "OPC UA subscriptions taken over by a new session (TransferSubscriptions).",
       [c] { return c->subscription_transfers.load(); }},
      {"opcua_subscriptions_created_total", "OPC UA subscriptions created (the first and every re-creation).",
       [c] { return c->subscriptions_created.load(); }},
      {"opcua_notifications_republished_total", "OPC UA notification messages recovered with Republish after a gap.",
       [c] { return c->notifications_republished.load(); }},
      {"opcua_token_renewals_total", "OPC UA secure channel tokens renewed (OpenSecureChannel Renew).",
       [c] { return c->token_renewals.load(); }},
      {"opcua_notifications_lost_total", "OPC UA notification messages missing after a gap that Republish could not recover.",
       [c] { return c->notifications_lost.load(); }},
  };
}

}  // namespace uc::sources::opcua
