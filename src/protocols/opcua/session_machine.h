// The OPC UA client session and its subscription as a sans-IO state machine: which
// service to call next, and what each answer means. No sockets, threads or clock reads:
// answers come in decoded, time comes in as steady microseconds. The driver
// (sources/opcua) is a plain loop, single-threaded:
//
//   SessionAction a = machine.next(now, client.outstanding_publishes());
//   do `a` with the blocking client; feed the answer back with the matching on_*();
//   handle machine.take_events().
//
// A call that failed and left the client disconnected is fed as on_connection_lost(),
// whatever the action was; the typed on_*() get only answers and service-level failures
// (the connection still up).
//
// Lifecycle (docs/sources/opcua.md, "Reconnect"):
//  - kConnect. The client still holds a session from an earlier connection →
//    kReactivateSession (the subscription lives on with it); refused while the connection
//    stays up → kOpenSession (a new session; its tags must be resolved again).
//  - kResolveTags on every new session, and on a re-activated one whose tags were never
//    resolved (a break half way through setting up). The driver says whether the tags are
//    the same as before (nodes and resolution), which allows a transfer.
//  - Subscription mode, the first that applies: the subscription belongs to the re-activated
//    session and has its monitored items → kept; it has its items and the tags are the same →
//    kTransferSubscription (refused → a new one); it belongs to the re-activated session but
//    lacks its items (half made) → kDeleteSubscription, then a new one; else a new one:
//    kCreateSubscription, kCreateMonitoredItems. Then event kReady.
//  - Polling mode: kReady after the tags, then kRead once per polling interval (after
//    falling behind the next read is an interval from now: no burst).
//  - kDisconnect when the connection is lost or an answer cannot be recovered from on the
//    same connection (forget_session: the server no longer knows the session); the driver
//    drops the connection, reports, waits its back-off and calls on_disconnected(); then
//    kConnect again. Subscription, sequence numbers and acknowledgements outlive it.
//  - stop(): while connected with a session, kDeleteSubscription (when there is one) and
//    kCloseSession; then kDone.
//
// Subscription (OPC 10000-4 §5.13):
//  - `publish_requests` Publish requests are kept outstanding; each carries the
//    acknowledgements of everything that arrived before it was sent. Timeout hint: the
//    watchdog × (outstanding target + 1), since a parked request waits behind the others.
//  - Sequence numbers: a keep-alive carries the number the next message will have, a data
//    message its own. A jump past the next expected number asks for the missing ones with
//    kRepublish (at most kMaxRepublish per gap; the rest and those the server no longer has
//    are lost), then the message that showed the gap is handled; event kGap summarises.
//    A number handled already is acknowledged, not published again. A message of a
//    subscription that is not ours is acknowledged and dropped.
//  - Publish faults: BadTimeout → sent again; BadTooManyPublishRequests → one fewer
//    outstanding (never below 1); BadNoSubscription / BadSubscriptionIdInvalid → a new
//    subscription on the same session, unless the request was sent before the current
//    subscription was ready (stale, ignored); session faults → kDisconnect forgetting the
//    session; any other → kDisconnect.
//  - StatusChangeNotification (after the data of its message): GoodSubscriptionTransferred
//    right after our own transfer is the server's notice (node-opcua sends it to the new
//    owner) and is ignored once; any other → event kStatusChanged and a new subscription.
//  - Watchdog: an answer is due within the revised publishing interval × revised keep-alive
//    count + timeout_ms of the last answer (or of the subscription becoming ready); past it,
//    next() says kDisconnect.
// Malformed input (a DataChangeNotification that does not decode) is kDisconnect with
// kDataLoss; hostile revised values are clamped (the watchdog to a day at most).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "protocols/opcua/generated/types.h"

namespace uc::opcua {

struct SessionSettings {
  bool subscribe = true;  // false: polling with Read
  double publishing_interval_ms = 1000;
  std::uint32_t keep_alive_count = 10;  // lifetime count is 3 × this
  std::size_t publish_requests = 3;     // Publish requests kept outstanding (at least 1)
  std::int64_t timeout_ms = 10000;      // per request; part of the watchdog
  std::int64_t polling_interval_ms = 1000;
};

// What the driver does next. Only the fields named for a kind are meaningful.
struct SessionAction {
  enum class Kind {
    kConnect,               // connect() → on_connected(has_session)
    kReactivateSession,     // → on_session_reactivated
    kOpenSession,           // → on_session_opened
    kResolveTags,           // → on_tags_resolved
    kCreateSubscription,    // publishing_interval_ms, lifetime_count, max_keep_alive_count → on_subscription_created
    kCreateMonitoredItems,  // subscription_id → on_monitored_items_created
    kTransferSubscription,  // subscription_id (send initial values) → on_subscription_transferred
    kDeleteSubscription,    // subscription_id → on_subscription_deleted
    kRepublish,             // subscription_id, sequence_number → on_republished
    kSendPublish,           // acks, timeout_hint_ms → on_publish_sent
    kWaitPublish,           // until deadline_us (the watchdog) → on_publish_response / on_publish_fault
    kRead,                  // at deadline_us → on_read
    kDisconnect,            // reason, forget_session → on_disconnected
    kCloseSession,          // → on_session_closed
    kDone,                  // stopped: nothing more to do
  };
  Kind kind = Kind::kConnect;
  std::uint32_t subscription_id = 0;
  std::uint32_t sequence_number = 0;
  double publishing_interval_ms = 0;
  std::uint32_t lifetime_count = 0;
  std::uint32_t max_keep_alive_count = 0;
  std::vector<SubscriptionAcknowledgement> acks;
  std::uint32_t timeout_hint_ms = 0;
  std::int64_t deadline_us = 0;
  Status reason;
  bool forget_session = false;
};

// What happened, for the driver to publish, log and count.
struct SessionEvent {
  enum class Kind {
    kReady,                  // set up after a connect; resumed: the session was re-activated
    kSessionNotReactivated,  // detail: why; a new session follows
    kTransferRefused,        // subscription_id, detail; a new subscription follows
    kData,                   // items of one NotificationMessage (one batch)
    kGap,                    // first..last missing, recovered, lost, detail (the first loss)
    kStatusChanged,          // code; a new subscription follows
    kSubscriptionGone,       // code (BadNoSubscription...); a new subscription follows
  };
  Kind kind = Kind::kReady;
  bool resumed = false;
  std::uint32_t subscription_id = 0;
  std::uint32_t code = 0;
  std::uint32_t first = 0, last = 0;
  std::uint64_t recovered = 0, lost = 0;
  std::string detail;
  std::vector<MonitoredItemNotification> items;
};

struct SessionCounters {
  std::uint64_t session_reactivations = 0;
  std::uint64_t subscription_transfers = 0;
  std::uint64_t subscriptions_created = 0;
  std::uint64_t notifications_republished = 0;
  std::uint64_t notifications_lost = 0;
};

class SessionMachine {
 public:
  // At most this many missing messages of one gap are asked for with Republish.
  static constexpr std::uint32_t kMaxRepublish = 64;
  // The watchdog never waits longer than this for an answer, whatever the server revised.
  static constexpr std::int64_t kMaxWatchdogUs = 24LL * 3600 * 1'000'000;

  explicit SessionMachine(SessionSettings settings);

  // What to do now. `outstanding_publishes`: Publish requests sent and not yet answered
  // (the client knows; a request the server aborted is no longer outstanding).
  SessionAction next(std::int64_t now_us, std::size_t outstanding_publishes);

  // Answers, one per action, in the order the actions were given.
  void on_connected(bool has_session);
  void on_session_reactivated(const Status& result);
  void on_session_opened(const Status& result);
  // same_tags: the resolved tags are the ones the subscription's items were made for.
  void on_tags_resolved(const Status& result, bool same_tags);
  void on_subscription_created(const Result<CreateSubscriptionResponse>& result);
  void on_monitored_items_created(const Status& result);
  void on_subscription_transferred(const Result<std::vector<TransferResult>>& result);
  void on_subscription_deleted(const Status& result);
  void on_republished(Result<NotificationMessage> result, std::int64_t now_us);
  void on_publish_sent(std::uint32_t request_id);
  void on_publish_response(PublishResponse response, std::int64_t now_us);
  // A ServiceFault (or bad service result) for the Publish with `request_id`; `status`
  // is the client's description of it.
  void on_publish_fault(std::uint32_t request_id, std::uint32_t service_result, const Status& status,
                        std::int64_t now_us);
  void on_read(const Status& result, std::int64_t now_us);
  void on_connection_lost(const Status& reason);
  void on_disconnected();
  void on_session_closed();
  void stop();

  std::vector<SessionEvent> take_events();
  const SessionCounters& counters() const { return counters_; }
  std::uint32_t subscription_id() const { return id_; }
  std::size_t publish_target() const { return target_; }
  // When the watchdog trips (running in subscription mode), else nullopt.
  std::optional<std::int64_t> watchdog_deadline_us() const;

 private:
  enum class Phase {
    kDisconnected,
    kReactivating,
    kOpening,
    kResolving,
    kCreating,
    kCreatingItems,
    kTransferring,
    kDeletingHalfMade,
    kRunning,
    kLost,
    kDone,
  };
  struct Gap {
    std::uint32_t first = 0, end = 0;  // missing: first .. end-1
    std::uint32_t next = 0;            // to ask for next
    std::uint64_t recovered = 0, lost = 0;
    std::string first_loss;
    PublishResponse held;  // the message that showed the gap, handled after it
  };

  SessionAction running_action(std::int64_t now_us, std::size_t outstanding);
  SessionAction closing_action();
  void after_session();
  void plan_subscription();
  void ready();
  void lose(Status reason, bool forget_session = false);
  void mark_subscribed();
  void handle_message(NotificationMessage& msg);
  void deliver(NotificationMessage& msg);
  void next_gap_step();
  void settle_status_change();
  void make_new_subscription(SessionEvent::Kind why, std::uint32_t code);
  void emit(SessionEvent e) { events_.push_back(std::move(e)); }

  SessionSettings settings_;
  Phase phase_ = Phase::kDisconnected;
  bool stopping_ = false;
  bool connected_ = false;
  bool has_session_ = false;  // the client holds an active session
  bool resumed_ = false;      // the current session was re-activated
  bool tags_ready_ = false;   // tags resolved on the current session
  bool same_tags_ = false;
  bool setting_up_ = false;  // between kConnect and kReady
  Status lost_reason_;
  bool forget_session_ = false;
  bool timers_pending_ = false;  // the watchdog and the read schedule start at the next next()
  std::int64_t next_read_us_ = 0;

  // The subscription outlives connections and sessions (re-activation, transfer).
  std::uint32_t id_ = 0;
  bool items_ready_ = false;         // id_ has its monitored items
  bool on_this_session_ = false;     // id_ belongs to the current session
  bool just_transferred_ = false;    // the next GoodSubscriptionTransferred is about our own transfer
  std::uint32_t last_sequence_ = 0;  // of the last message handled (0: none yet)
  std::vector<SubscriptionAcknowledgement> acks_;
  std::uint32_t last_sent_id_ = 0;  // newest Publish request id
  std::uint32_t stale_up_to_ = 0;   // Publish requests up to this id predate the subscription
  std::size_t target_;
  std::uint32_t hint_ms_ = 0;
  std::int64_t watchdog_us_ = 0;
  std::int64_t last_answer_us_ = 0;
  std::optional<Gap> gap_;
  std::uint32_t pending_status_change_ = 0;  // seen in a message; acted on when the message is done

  SessionCounters counters_;
  std::vector<SessionEvent> events_;
};

const char* action_name(SessionAction::Kind kind);

}  // namespace uc::opcua
