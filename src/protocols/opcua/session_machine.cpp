#include "protocols/opcua/session_machine.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <utility>

#include "protocols/opcua/encoding.h"
#include "protocols/opcua/generated/status_codes.h"

namespace uc::opcua {
namespace {

using Kind = SessionAction::Kind;

SessionAction action(Kind kind, std::uint32_t subscription_id = 0) {
  SessionAction a;
  a.kind = kind;
  a.subscription_id = subscription_id;
  return a;
}

bool is_session_fault(std::uint32_t code) {
  return code == status::kBadSessionIdInvalid || code == status::kBadSessionClosed ||
         code == status::kBadSessionNotActivated;
}

}  // namespace

SessionMachine::SessionMachine(SessionSettings settings)
    : settings_(settings), target_(std::max<std::size_t>(1, settings.publish_requests)) {}

SessionAction SessionMachine::next(std::int64_t now_us, std::size_t outstanding_publishes) {
  if (stopping_) return closing_action();
  switch (phase_) {
    case Phase::kDisconnected:
      return action(Kind::kConnect);
    case Phase::kReactivating:
      return action(Kind::kReactivateSession);
    case Phase::kOpening:
      return action(Kind::kOpenSession);
    case Phase::kResolving:
      return action(Kind::kResolveTags);
    case Phase::kCreating: {
      SessionAction a = action(Kind::kCreateSubscription);
      a.publishing_interval_ms = settings_.publishing_interval_ms;
      a.max_keep_alive_count = settings_.keep_alive_count;
      a.lifetime_count = settings_.keep_alive_count * 3;
      return a;
    }
    case Phase::kCreatingItems:
      return action(Kind::kCreateMonitoredItems, id_);
    case Phase::kTransferring:
      return action(Kind::kTransferSubscription, id_);
    case Phase::kDeletingHalfMade:
      return action(Kind::kDeleteSubscription, id_);
    case Phase::kRunning:
      return running_action(now_us, outstanding_publishes);
    case Phase::kLost: {
      SessionAction a = action(Kind::kDisconnect);
      a.reason = lost_reason_;
      a.forget_session = forget_session_;
      return a;
    }
    case Phase::kDone:
      break;
  }
  return action(Kind::kDone);
}

SessionAction SessionMachine::running_action(std::int64_t now_us, std::size_t outstanding) {
  if (timers_pending_) {
    last_answer_us_ = now_us;
    next_read_us_ = now_us;
    timers_pending_ = false;
  }
  if (!settings_.subscribe) {
    SessionAction a = action(Kind::kRead);
    a.deadline_us = next_read_us_;
    return a;
  }
  if (gap_) {
    SessionAction a = action(Kind::kRepublish, id_);
    a.sequence_number = gap_->next;
    return a;
  }
  if (now_us >= last_answer_us_ + watchdog_us_) {
    lose(unavailable("no notification or keep-alive within " + std::to_string(watchdog_us_ / 1000) + " ms"));
    return next(now_us, outstanding);
  }
  if (outstanding < target_) {
    SessionAction a = action(Kind::kSendPublish);
    a.acks = acks_;
    a.timeout_hint_ms = hint_ms_;
    return a;
  }
  SessionAction a = action(Kind::kWaitPublish);
  a.deadline_us = last_answer_us_ + watchdog_us_;
  return a;
}

// Leave the server tidy: the subscription deleted, the session closed, when there is a
// connection to do it on.
SessionAction SessionMachine::closing_action() {
  if (phase_ == Phase::kDone || !connected_ || !has_session_) {
    phase_ = Phase::kDone;
    return action(Kind::kDone);
  }
  if (id_ != 0) return action(Kind::kDeleteSubscription, id_);
  return action(Kind::kCloseSession);
}

void SessionMachine::on_connected(bool has_session) {
  connected_ = true;
  resumed_ = false;
  setting_up_ = true;
  phase_ = has_session ? Phase::kReactivating : Phase::kOpening;
}

void SessionMachine::on_session_reactivated(const Status& result) {
  if (!result.is_ok()) {
    SessionEvent e;
    e.kind = SessionEvent::Kind::kSessionNotReactivated;
    e.detail = result.message();
    emit(std::move(e));
    has_session_ = false;
    on_this_session_ = false;
    phase_ = Phase::kOpening;
    return;
  }
  resumed_ = true;
  has_session_ = true;
  ++counters_.session_reactivations;
  after_session();
}

void SessionMachine::on_session_opened(const Status& result) {
  if (!result.is_ok()) return lose(result);
  has_session_ = true;
  tags_ready_ = false;
  on_this_session_ = false;
  after_session();
}

void SessionMachine::after_session() {
  if (!tags_ready_) {
    phase_ = Phase::kResolving;
    return;
  }
  same_tags_ = false;
  plan_subscription();
}

void SessionMachine::on_tags_resolved(const Status& result, bool same_tags) {
  if (!result.is_ok()) return lose(result);
  tags_ready_ = true;
  same_tags_ = same_tags;
  plan_subscription();
}

void SessionMachine::plan_subscription() {
  const bool complete = id_ != 0 && items_ready_;
  if (!settings_.subscribe) {
    ready();
  } else if (resumed_ && on_this_session_ && complete) {
    mark_subscribed();  // it lives on with the session
    ready();
  } else if (complete && same_tags_) {
    phase_ = Phase::kTransferring;
  } else if (resumed_ && on_this_session_ && id_ != 0) {
    phase_ = Phase::kDeletingHalfMade;
  } else {
    phase_ = Phase::kCreating;
  }
}

void SessionMachine::ready() {
  phase_ = Phase::kRunning;
  timers_pending_ = true;
  if (!setting_up_) return;  // a subscription re-made while running
  setting_up_ = false;
  SessionEvent e;
  e.kind = SessionEvent::Kind::kReady;
  e.resumed = resumed_;
  emit(std::move(e));
}

void SessionMachine::mark_subscribed() {
  stale_up_to_ = last_sent_id_;
  timers_pending_ = true;
}

void SessionMachine::on_subscription_created(const Result<CreateSubscriptionResponse>& result) {
  if (!result) return lose(result.status());
  id_ = result->subscription_id;
  items_ready_ = false;
  on_this_session_ = true;
  just_transferred_ = false;
  last_sequence_ = 0;
  acks_.clear();
  ++counters_.subscriptions_created;
  // A notification or keep-alive is due within interval × keep-alive count (+ the timeout
  // for the answer to travel). NaN, negative or huge revisions are clamped.
  double cycle_ms = result->revised_publishing_interval * result->revised_max_keep_alive_count;
  if (!(cycle_ms >= 0)) cycle_ms = 0;
  const double max_ms = static_cast<double>(kMaxWatchdogUs / 1000);
  const auto watchdog_ms = static_cast<std::int64_t>(std::min(cycle_ms, max_ms)) +
                           std::clamp<std::int64_t>(settings_.timeout_ms, 0, kMaxWatchdogUs / 1000);
  watchdog_us_ = std::min(watchdog_ms * 1000, kMaxWatchdogUs);
  // A parked Publish may wait for its turn behind the others.
  const auto hint = (watchdog_us_ / 1000) * static_cast<std::int64_t>(target_ + 1);
  hint_ms_ = static_cast<std::uint32_t>(std::min<std::int64_t>(hint, std::numeric_limits<std::uint32_t>::max()));
  phase_ = Phase::kCreatingItems;
}

void SessionMachine::on_monitored_items_created(const Status& result) {
  if (!result.is_ok()) return lose(result);
  items_ready_ = true;
  mark_subscribed();
  ready();
}

void SessionMachine::on_subscription_transferred(const Result<std::vector<TransferResult>>& result) {
  if (!result || result->empty() || result->front().status_code.is_bad()) {
    SessionEvent e;
    e.kind = SessionEvent::Kind::kTransferRefused;
    e.subscription_id = id_;
    e.detail = !result           ? result.status().message()
               : result->empty() ? std::string("no result")
                                 : status::name(result->front().status_code.code);
    emit(std::move(e));
    phase_ = Phase::kCreating;
    return;
  }
  ++counters_.subscription_transfers;
  just_transferred_ = true;
  on_this_session_ = true;
  // What the server still holds and we have had: acknowledged; newer ones come as a gap.
  acks_.clear();
  for (std::uint32_t seq : result->front().available_sequence_numbers) {
    if (seq <= last_sequence_) acks_.push_back({id_, seq});
  }
  mark_subscribed();
  ready();
}

void SessionMachine::on_subscription_deleted(const Status& /*result: nothing to do either way*/) {
  id_ = 0;
  items_ready_ = false;
  if (!stopping_ && phase_ == Phase::kDeletingHalfMade) phase_ = Phase::kCreating;
}

void SessionMachine::on_publish_sent(std::uint32_t request_id) {
  last_sent_id_ = request_id;
  acks_.clear();
}

void SessionMachine::on_publish_response(PublishResponse response, std::int64_t now_us) {
  if (phase_ != Phase::kRunning || gap_) return;  // answers only to kWaitPublish
  last_answer_us_ = now_us;
  NotificationMessage& msg = response.notification_message;
  const bool keep_alive = msg.notification_data.empty();
  if (response.subscription_id != id_) {  // a subscription no longer ours: acknowledge, drop
    if (!keep_alive) acks_.push_back({response.subscription_id, msg.sequence_number});
    return;
  }
  // A keep-alive carries the number the next message will have; data its own.
  const std::uint32_t expected = last_sequence_ + 1;
  if (last_sequence_ != 0 && msg.sequence_number > expected) {
    gap_ = Gap{expected, msg.sequence_number, expected, 0, 0, {}, std::move(response)};
    return;
  }
  handle_message(msg);
  settle_status_change();
}

void SessionMachine::handle_message(NotificationMessage& msg) {
  if (msg.notification_data.empty()) return;  // keep-alive
  acks_.push_back({id_, msg.sequence_number});
  if (last_sequence_ != 0 && msg.sequence_number <= last_sequence_) return;  // had it already (Republish)
  last_sequence_ = msg.sequence_number;
  deliver(msg);
}

// The data of one message as one kData event; a StatusChangeNotification is kept for
// settle_status_change(), after the data.
void SessionMachine::deliver(NotificationMessage& msg) {
  SessionEvent e;
  e.kind = SessionEvent::Kind::kData;
  for (const ExtensionObject& ext : msg.notification_data) {
    if (ext.type_id == NodeId(DataChangeNotification::kBinaryEncodingId)) {
      DataChangeNotification n;
      std::string err;
      if (!decode_extension(ext, n, Limits(), &err)) {
        return lose(Status(uc::StatusCode::kDataLoss,
                           "DataChangeNotification " + std::to_string(msg.sequence_number) + ": " + err));
      }
      std::move(n.monitored_items.begin(), n.monitored_items.end(), std::back_inserter(e.items));
    } else if (ext.type_id == NodeId(StatusChangeNotification::kBinaryEncodingId)) {
      StatusChangeNotification n;
      (void)decode_extension(ext, n, Limits());  // undecodable: a change all the same
      pending_status_change_ = n.status.code == 0 ? status::kBadUnexpectedError : n.status.code;
    }
  }
  if (!e.items.empty()) emit(std::move(e));
}

void SessionMachine::settle_status_change() {
  const std::uint32_t code = std::exchange(pending_status_change_, 0);
  if (code == 0 || phase_ != Phase::kRunning) return;
  if (code == status::kGoodSubscriptionTransferred && just_transferred_) {
    just_transferred_ = false;  // the server's notice of our own transfer
    return;
  }
  make_new_subscription(SessionEvent::Kind::kStatusChanged, code);
}

void SessionMachine::make_new_subscription(SessionEvent::Kind why, std::uint32_t code) {
  SessionEvent e;
  e.kind = why;
  e.subscription_id = id_;
  e.code = code;
  emit(std::move(e));
  phase_ = Phase::kCreating;
}

void SessionMachine::on_republished(Result<NotificationMessage> result, std::int64_t now_us) {
  if (phase_ != Phase::kRunning || !gap_) return;  // answers only to kRepublish
  last_answer_us_ = now_us;
  Gap& g = *gap_;
  if (result) {
    ++g.recovered;
    acks_.push_back({id_, g.next});
    deliver(*result);
    if (phase_ != Phase::kRunning) return;  // malformed: lost the connection
  } else {
    ++g.lost;
    if (g.first_loss.empty()) g.first_loss = result.status().message();
  }
  last_sequence_ = g.next;  // handled: a break from here on does not ask for it again
  next_gap_step();
}

void SessionMachine::next_gap_step() {
  Gap& g = *gap_;
  ++g.next;
  if (g.next < g.end && g.next - g.first >= kMaxRepublish) {
    g.lost += g.end - g.next;
    g.next = g.end;
  }
  if (g.next < g.end) return;
  counters_.notifications_republished += g.recovered;
  counters_.notifications_lost += g.lost;
  SessionEvent e;
  e.kind = SessionEvent::Kind::kGap;
  e.subscription_id = id_;
  e.first = g.first;
  e.last = g.end - 1;
  e.recovered = g.recovered;
  e.lost = g.lost;
  e.detail = std::move(g.first_loss);
  emit(std::move(e));
  last_sequence_ = g.end - 1;
  PublishResponse held = std::move(g.held);
  gap_.reset();
  handle_message(held.notification_message);
  settle_status_change();
}

void SessionMachine::on_publish_fault(std::uint32_t request_id, std::uint32_t service_result, const Status& status,
                                      std::int64_t now_us) {
  if (phase_ != Phase::kRunning) return;
  last_answer_us_ = now_us;
  if (service_result == status::kBadTimeout) return;  // parked too long: sent again
  if (service_result == status::kBadTooManyPublishRequests) {
    if (target_ > 1) --target_;
    return;
  }
  if (service_result == status::kBadNoSubscription || service_result == status::kBadSubscriptionIdInvalid) {
    if (request_id <= stale_up_to_) return;  // sent before the current subscription existed
    return make_new_subscription(SessionEvent::Kind::kSubscriptionGone, service_result);
  }
  lose(status, is_session_fault(service_result));
}

void SessionMachine::on_read(const Status& result, std::int64_t now_us) {
  if (!result.is_ok()) return lose(result);
  const std::int64_t interval_us = std::max<std::int64_t>(settings_.polling_interval_ms, 1) * 1000;
  next_read_us_ += interval_us;
  if (next_read_us_ <= now_us) next_read_us_ = now_us + interval_us;  // fell behind: no burst
}

void SessionMachine::on_connection_lost(const Status& reason) {
  lose(reason);
}

void SessionMachine::lose(Status reason, bool forget_session) {
  phase_ = Phase::kLost;
  lost_reason_ = std::move(reason);
  forget_session_ = forget_session;
  connected_ = false;
  setting_up_ = false;
  if (forget_session) {
    has_session_ = false;
    on_this_session_ = false;
  }
  gap_.reset();  // asked for again from last_sequence_ once the session is back
  pending_status_change_ = 0;
}

void SessionMachine::on_disconnected() {
  if (phase_ == Phase::kLost) phase_ = Phase::kDisconnected;
}

void SessionMachine::on_session_closed() {
  has_session_ = false;
  on_this_session_ = false;
}

void SessionMachine::stop() {
  stopping_ = true;
}

std::vector<SessionEvent> SessionMachine::take_events() {
  return std::exchange(events_, {});
}

std::optional<std::int64_t> SessionMachine::watchdog_deadline_us() const {
  if (phase_ != Phase::kRunning || !settings_.subscribe || timers_pending_) return std::nullopt;
  return last_answer_us_ + watchdog_us_;
}

const char* action_name(SessionAction::Kind kind) {
  switch (kind) {
    case Kind::kConnect:
      return "Connect";
    case Kind::kReactivateSession:
      return "ReactivateSession";
    case Kind::kOpenSession:
      return "OpenSession";
    case Kind::kResolveTags:
      return "ResolveTags";
    case Kind::kCreateSubscription:
      return "CreateSubscription";
    case Kind::kCreateMonitoredItems:
      return "CreateMonitoredItems";
    case Kind::kTransferSubscription:
      return "TransferSubscription";
    case Kind::kDeleteSubscription:
      return "DeleteSubscription";
    case Kind::kRepublish:
      return "Republish";
    case Kind::kSendPublish:
      return "SendPublish";
    case Kind::kWaitPublish:
      return "WaitPublish";
    case Kind::kRead:
      return "Read";
    case Kind::kDisconnect:
      return "Disconnect";
    case Kind::kCloseSession:
      return "CloseSession";
    case Kind::kDone:
      return "Done";
  }
  return "?";
}

}  // namespace uc::opcua
