// The session machine driven by scripted answers and a manual clock: every recovery path
// of the OPC UA source without a server.
#include "protocols/opcua/session_machine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/clock.h"
#include "protocols/opcua/encoding.h"
#include "protocols/opcua/generated/status_codes.h"

namespace uc::opcua {
namespace {

using Kind = SessionAction::Kind;
using EventKind = SessionEvent::Kind;

constexpr std::uint32_t kSub = 7;
constexpr std::int64_t kInterval = 100;  // ms, revised publishing interval
constexpr std::uint32_t kKeepAlive = 10;
constexpr std::int64_t kTimeout = 1000;                                           // ms
constexpr std::int64_t kWatchdogUs = (kInterval * kKeepAlive + kTimeout) * 1000;  // 2 s

PublishResponse data(std::uint32_t sub, std::uint32_t seq, std::uint32_t handle = 0, double value = 1.0) {
  DataChangeNotification n;
  MonitoredItemNotification item;
  item.client_handle = handle;
  item.value.value = Variant::scalar(value);
  n.monitored_items.push_back(item);
  PublishResponse r;
  r.subscription_id = sub;
  r.notification_message.sequence_number = seq;
  r.notification_message.notification_data.push_back(make_extension(n));
  return r;
}

PublishResponse keep_alive(std::uint32_t sub, std::uint32_t next_seq) {
  PublishResponse r;
  r.subscription_id = sub;
  r.notification_message.sequence_number = next_seq;
  return r;
}

PublishResponse status_change(std::uint32_t sub, std::uint32_t seq, std::uint32_t code) {
  PublishResponse r = data(sub, seq, 0, 9.0);  // data first, then the change
  StatusChangeNotification n;
  n.status.code = code;
  r.notification_message.notification_data.push_back(make_extension(n));
  return r;
}

CreateSubscriptionResponse created(std::uint32_t id) {
  CreateSubscriptionResponse r;
  r.subscription_id = id;
  r.revised_publishing_interval = kInterval;
  r.revised_max_keep_alive_count = kKeepAlive;
  return r;
}

TransferResult transfer_ok(std::vector<std::uint32_t> available) {
  TransferResult t;
  t.status_code.code = 0;
  t.available_sequence_numbers = std::move(available);
  return t;
}

Status fault(std::uint32_t code) {
  return Status(uc::StatusCode::kFailedPrecondition, std::string("service fault: ") + status::name(code));
}

std::vector<SubscriptionAcknowledgement> acks(std::uint32_t sub, std::vector<std::uint32_t> seqs) {
  std::vector<SubscriptionAcknowledgement> out;
  for (auto s : seqs) out.push_back({sub, s});
  return out;
}

class SessionMachineTest : public ::testing::Test {
 protected:
  SessionSettings settings() {
    SessionSettings s;
    s.publishing_interval_ms = kInterval;
    s.keep_alive_count = kKeepAlive;
    s.publish_requests = 3;
    s.timeout_ms = kTimeout;
    s.polling_interval_ms = 500;
    return s;
  }

  std::int64_t now() const { return clock_.steady_us(); }

  // The next action, which must be of `kind`.
  SessionAction expect(Kind kind) {
    SessionAction a = m_.next(now(), outstanding_);
    EXPECT_EQ(action_name(a.kind), std::string(action_name(kind)));
    return a;
  }

  // Connect, new session, tags, subscription `id` with its items: running.
  void start_fresh(std::uint32_t id = kSub) {
    expect(Kind::kConnect);
    m_.on_connected(false);
    expect(Kind::kOpenSession);
    m_.on_session_opened(Status::ok());
    expect(Kind::kResolveTags);
    m_.on_tags_resolved(Status::ok(), false);
    create(id);
    auto ev = m_.take_events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].kind, EventKind::kReady);
    EXPECT_FALSE(ev[0].resumed);
  }

  void create(std::uint32_t id) {
    expect(Kind::kCreateSubscription);
    m_.on_subscription_created(created(id));
    EXPECT_EQ(expect(Kind::kCreateMonitoredItems).subscription_id, id);
    m_.on_monitored_items_created(Status::ok());
  }

  // A new session, its tags resolved.
  void open_session(bool same_tags) {
    m_.on_session_opened(Status::ok());
    m_.on_tags_resolved(Status::ok(), same_tags);
  }

  // Sends Publish requests until the target is outstanding; returns the acks carried.
  std::vector<SubscriptionAcknowledgement> fill() {
    std::vector<SubscriptionAcknowledgement> carried;
    for (;;) {
      SessionAction a = m_.next(now(), outstanding_);
      if (a.kind != Kind::kSendPublish) {
        EXPECT_EQ(action_name(a.kind), std::string("WaitPublish"));
        return carried;
      }
      carried.insert(carried.end(), a.acks.begin(), a.acks.end());
      m_.on_publish_sent(++request_id_);
      ++outstanding_;
    }
  }

  void answer(PublishResponse r) {
    --outstanding_;
    m_.on_publish_response(std::move(r), now());
  }

  void answer_fault(std::uint32_t request_id, std::uint32_t code) {
    --outstanding_;
    m_.on_publish_fault(request_id, code, fault(code), now());
  }

  // Breaks the connection and reconnects to the point of session handling.
  void break_and_reconnect(bool has_session) {
    m_.on_connection_lost(unavailable("server closed the connection"));
    SessionAction d = expect(Kind::kDisconnect);
    EXPECT_EQ(d.reason.code(), uc::StatusCode::kUnavailable);
    m_.on_disconnected();
    outstanding_ = 0;  // the client forgets Publish requests of a closed connection
    expect(Kind::kConnect);
    m_.on_connected(has_session);
  }

  std::vector<SessionEvent> events() { return m_.take_events(); }

  ManualClock clock_;
  SessionMachine m_{settings()};
  std::size_t outstanding_ = 0;
  std::uint32_t request_id_ = 100;
};

TEST_F(SessionMachineTest, FreshStartOpensSessionResolvesTagsAndSubscribes) {
  expect(Kind::kConnect);
  m_.on_connected(false);
  expect(Kind::kOpenSession);
  m_.on_session_opened(Status::ok());
  expect(Kind::kResolveTags);
  m_.on_tags_resolved(Status::ok(), false);
  SessionAction c = expect(Kind::kCreateSubscription);
  EXPECT_EQ(c.publishing_interval_ms, kInterval);
  EXPECT_EQ(c.max_keep_alive_count, kKeepAlive);
  EXPECT_EQ(c.lifetime_count, 3 * kKeepAlive);
  m_.on_subscription_created(created(kSub));
  EXPECT_TRUE(events().empty());  // not ready without its monitored items
  EXPECT_EQ(expect(Kind::kCreateMonitoredItems).subscription_id, kSub);
  m_.on_monitored_items_created(Status::ok());
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kReady);
  EXPECT_EQ(m_.subscription_id(), kSub);
  EXPECT_EQ(m_.counters().subscriptions_created, 1u);
}

TEST_F(SessionMachineTest, KeepsTargetOutstandingWithTimeoutHintThenWaitsForTheWatchdog) {
  start_fresh();
  SessionAction a = expect(Kind::kSendPublish);
  EXPECT_EQ(a.timeout_hint_ms, static_cast<std::uint32_t>(kWatchdogUs / 1000 * 4));  // behind 3 others
  EXPECT_TRUE(a.acks.empty());
  fill();
  EXPECT_EQ(outstanding_, 3u);
  SessionAction w = expect(Kind::kWaitPublish);
  EXPECT_EQ(w.deadline_us, now() + kWatchdogUs);
  EXPECT_EQ(m_.watchdog_deadline_us(), now() + kWatchdogUs);
}

TEST_F(SessionMachineTest, DataIsOneEventAndItsAckRidesOnTheNextPublish) {
  start_fresh();
  fill();
  answer(data(kSub, 1, 4, 2.5));
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kData);
  ASSERT_EQ(ev[0].items.size(), 1u);
  EXPECT_EQ(ev[0].items[0].client_handle, 4u);
  EXPECT_EQ(ev[0].items[0].value.value, Variant::scalar(2.5));
  EXPECT_EQ(fill(), acks(kSub, {1}));
  answer(data(kSub, 2));
  answer(data(kSub, 3));
  EXPECT_EQ(fill(), acks(kSub, {2, 3}));  // both on the first request sent, none on the second
  EXPECT_TRUE(fill().empty());
}

TEST_F(SessionMachineTest, KeepAliveCarriesTheNextNumberAndIsNotAcknowledged) {
  start_fresh();
  fill();
  answer(data(kSub, 1));
  (void)events();
  answer(keep_alive(kSub, 2));  // the next message will be 2: nothing missing
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(fill(), acks(kSub, {1}));
  answer(keep_alive(kSub, 4));  // 2 and 3 were sent and lost on the way
  EXPECT_EQ(expect(Kind::kRepublish).sequence_number, 2u);
}

TEST_F(SessionMachineTest, GapIsRecoveredWithRepublishInOrderBeforeTheMessageThatShowedIt) {
  start_fresh();
  fill();
  answer(data(kSub, 1, 0, 1.0));
  (void)events();
  answer(data(kSub, 4, 0, 4.0));
  EXPECT_TRUE(events().empty());  // held until the gap is closed
  SessionAction r = expect(Kind::kRepublish);
  EXPECT_EQ(r.subscription_id, kSub);
  EXPECT_EQ(r.sequence_number, 2u);
  m_.on_republished(data(kSub, 2, 0, 2.0).notification_message, now());
  EXPECT_EQ(expect(Kind::kRepublish).sequence_number, 3u);
  m_.on_republished(data(kSub, 3, 0, 3.0).notification_message, now());
  auto ev = events();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].items[0].value.value, Variant::scalar(2.0));
  EXPECT_EQ(ev[1].items[0].value.value, Variant::scalar(3.0));
  EXPECT_EQ(ev[2].kind, EventKind::kGap);
  EXPECT_EQ(ev[2].first, 2u);
  EXPECT_EQ(ev[2].last, 3u);
  EXPECT_EQ(ev[2].recovered, 2u);
  EXPECT_EQ(ev[2].lost, 0u);
  EXPECT_EQ(ev[3].kind, EventKind::kData);
  EXPECT_EQ(ev[3].items[0].value.value, Variant::scalar(4.0));
  EXPECT_EQ(fill(), acks(kSub, {1, 2, 3, 4}));
  EXPECT_EQ(m_.counters().notifications_republished, 2u);
  EXPECT_EQ(m_.counters().notifications_lost, 0u);
}

TEST_F(SessionMachineTest, GapPartlyLostWhenTheServerNoLongerHasAMessage) {
  start_fresh();
  fill();
  answer(data(kSub, 1));
  answer(data(kSub, 4));
  expect(Kind::kRepublish);
  m_.on_republished(fault(status::kBadMessageNotAvailable), now());
  expect(Kind::kRepublish);
  m_.on_republished(data(kSub, 3).notification_message, now());
  auto ev = events();
  ASSERT_EQ(ev.size(), 4u);  // 1, 3, the gap, 4
  EXPECT_EQ(ev[2].kind, EventKind::kGap);
  EXPECT_EQ(ev[2].recovered, 1u);
  EXPECT_EQ(ev[2].lost, 1u);
  EXPECT_NE(ev[2].detail.find("BadMessageNotAvailable"), std::string::npos) << ev[2].detail;
  EXPECT_EQ(fill(), acks(kSub, {1, 3, 4}));  // the lost one is not acknowledged
  EXPECT_EQ(m_.counters().notifications_lost, 1u);
}

TEST_F(SessionMachineTest, AtMost64OfAGapAreAskedForTheRestAreLost) {
  start_fresh();
  fill();
  answer(data(kSub, 1));
  answer(data(kSub, 101));  // 2..100 missing: 99
  for (std::uint32_t seq = 2; seq <= 65; ++seq) {
    SessionAction r = expect(Kind::kRepublish);
    ASSERT_EQ(r.sequence_number, seq);
    m_.on_republished(data(kSub, seq).notification_message, now());
  }
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u + 64u + 2u);
  const SessionEvent& gap = ev[65];
  EXPECT_EQ(gap.kind, EventKind::kGap);
  EXPECT_EQ(gap.first, 2u);
  EXPECT_EQ(gap.last, 100u);
  EXPECT_EQ(gap.recovered, 64u);
  EXPECT_EQ(gap.lost, 35u);
  EXPECT_EQ(ev[66].kind, EventKind::kData);  // 101
  EXPECT_EQ(m_.counters().notifications_lost, 35u);
  expect(Kind::kSendPublish);
}

TEST_F(SessionMachineTest, DuplicateAfterRepublishIsAcknowledgedButNotPublishedAgain) {
  start_fresh();
  fill();
  answer(data(kSub, 1));
  answer(data(kSub, 3));
  expect(Kind::kRepublish);
  m_.on_republished(data(kSub, 2).notification_message, now());
  EXPECT_EQ(events().size(), 4u);  // 1, 2, gap, 3
  answer(data(kSub, 2));           // the original answer, late
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(fill(), acks(kSub, {1, 2, 3, 2}));
}

TEST_F(SessionMachineTest, MessagesOfAnotherSubscriptionAreAcknowledgedAndDropped) {
  start_fresh();
  fill();
  answer(data(99, 5));
  answer(keep_alive(99, 6));
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(fill(), acks(99, {5}));
}

TEST_F(SessionMachineTest, TooManyPublishRequestsLowersTheTargetButNotBelowOne) {
  start_fresh();
  fill();
  answer_fault(101, status::kBadTooManyPublishRequests);
  EXPECT_EQ(m_.publish_target(), 2u);
  expect(Kind::kWaitPublish);  // 2 outstanding: enough
  answer_fault(102, status::kBadTooManyPublishRequests);
  answer_fault(103, status::kBadTooManyPublishRequests);
  EXPECT_EQ(m_.publish_target(), 1u);
  fill();
  EXPECT_EQ(outstanding_, 1u);
}

TEST_F(SessionMachineTest, BadTimeoutIsSentAgainAndCountsAsAnAnswer) {
  start_fresh();
  fill();
  clock_.advance_us(kWatchdogUs - 1);
  answer_fault(101, status::kBadTimeout);
  EXPECT_TRUE(events().empty());
  expect(Kind::kSendPublish);
  EXPECT_EQ(m_.watchdog_deadline_us(), now() + kWatchdogUs);
}

TEST_F(SessionMachineTest, BadNoSubscriptionOfAStaleRequestIsIgnoredOfACurrentOneRecreates) {
  start_fresh();
  fill();  // 101..103
  answer_fault(101, status::kBadNoSubscription);
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kSubscriptionGone);
  EXPECT_EQ(ev[0].code, status::kBadNoSubscription);
  create(kSub + 1);
  EXPECT_TRUE(events().empty());                  // no second kReady: the session went on
  answer_fault(102, status::kBadNoSubscription);  // sent before kSub + 1 existed
  answer_fault(103, status::kBadSubscriptionIdInvalid);
  EXPECT_TRUE(events().empty());
  fill();  // 104..106
  answer_fault(104, status::kBadSubscriptionIdInvalid);
  ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kSubscriptionGone);
  expect(Kind::kCreateSubscription);
  EXPECT_EQ(m_.counters().subscriptions_created, 2u);
}

TEST_F(SessionMachineTest, StatusChangeBadTimeoutPublishesTheDataThenRecreates) {
  start_fresh();
  fill();
  answer(data(kSub, 1));
  answer(status_change(kSub, 2, status::kBadTimeout));
  auto ev = events();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[1].kind, EventKind::kData);
  EXPECT_EQ(ev[2].kind, EventKind::kStatusChanged);
  EXPECT_EQ(ev[2].code, status::kBadTimeout);
  create(kSub + 1);
  EXPECT_TRUE(events().empty());
  // Acknowledgements for the old subscription are dropped with it; the new one numbers
  // from 1 again, which is new, not a duplicate.
  EXPECT_TRUE(fill().empty());
  answer(data(kSub + 1, 1));
  EXPECT_EQ(events().size(), 1u);
}

TEST_F(SessionMachineTest, StatusChangeWithoutACodeStillRecreates) {
  start_fresh();
  fill();
  answer(status_change(kSub, 1, 0));
  auto ev = events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].code, status::kBadUnexpectedError);
  expect(Kind::kCreateSubscription);
}

TEST_F(SessionMachineTest, ReconnectReactivatesTheSessionAndKeepsTheSubscription) {
  start_fresh();
  fill();  // 101..103
  answer(data(kSub, 1));
  (void)events();
  break_and_reconnect(true);
  expect(Kind::kReactivateSession);
  m_.on_session_reactivated(Status::ok());
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kReady);
  EXPECT_TRUE(ev[0].resumed);          // no tags again, no new subscription
  EXPECT_EQ(fill(), acks(kSub, {1}));  // the ack not sent before the break goes now
  answer(data(kSub, 3));               // 2 was published while the connection was down
  EXPECT_EQ(expect(Kind::kRepublish).sequence_number, 2u);
  EXPECT_EQ(m_.counters().session_reactivations, 1u);
  EXPECT_EQ(m_.counters().subscriptions_created, 1u);
}

TEST_F(SessionMachineTest, PublishFaultsOfRequestsFromBeforeAReactivationAreStale) {
  start_fresh();
  fill();  // 101..103
  break_and_reconnect(true);
  m_.on_session_reactivated(Status::ok());
  (void)events();
  m_.on_publish_fault(103, status::kBadNoSubscription, fault(status::kBadNoSubscription), now());
  EXPECT_TRUE(events().empty());
  fill();  // 104..106
  answer_fault(104, status::kBadNoSubscription);
  ASSERT_EQ(events().size(), 1u);
  expect(Kind::kCreateSubscription);
}

TEST_F(SessionMachineTest, ReactivationRefusedThenNewSessionTransfersTheSubscription) {
  start_fresh();
  fill();
  answer(data(kSub, 1));
  answer(data(kSub, 2));
  (void)events();
  break_and_reconnect(true);
  expect(Kind::kReactivateSession);
  m_.on_session_reactivated(fault(status::kBadSessionIdInvalid));
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kSessionNotReactivated);
  expect(Kind::kOpenSession);
  m_.on_session_opened(Status::ok());
  expect(Kind::kResolveTags);
  m_.on_tags_resolved(Status::ok(), true);
  EXPECT_EQ(expect(Kind::kTransferSubscription).subscription_id, kSub);
  m_.on_subscription_transferred(std::vector<TransferResult>{transfer_ok({1, 2, 3})});
  ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kReady);
  EXPECT_FALSE(ev[0].resumed);
  EXPECT_EQ(m_.counters().subscription_transfers, 1u);
  // What we had is acknowledged; 3 comes as a gap.
  EXPECT_EQ(fill(), acks(kSub, {1, 2}));
  answer(data(kSub, 4));
  EXPECT_EQ(expect(Kind::kRepublish).sequence_number, 3u);
}

TEST_F(SessionMachineTest, GoodSubscriptionTransferredAfterOurOwnTransferIsIgnoredOnce) {
  start_fresh();
  fill();
  answer(data(kSub, 1));
  break_and_reconnect(false);
  expect(Kind::kOpenSession);
  open_session(true);
  expect(Kind::kTransferSubscription);
  m_.on_subscription_transferred(std::vector<TransferResult>{transfer_ok({})});
  (void)events();
  fill();
  answer(status_change(kSub, 2, status::kGoodSubscriptionTransferred));
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);  // the data only
  EXPECT_EQ(ev[0].kind, EventKind::kData);
  fill();
  answer(status_change(kSub, 3, status::kGoodSubscriptionTransferred));  // someone else took it
  ev = events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].kind, EventKind::kStatusChanged);
  expect(Kind::kCreateSubscription);
}

TEST_F(SessionMachineTest, TransferRefusedOrFailedOrEmptyMakesANewSubscription) {
  const std::vector<Result<std::vector<TransferResult>>> answers = {
      std::vector<TransferResult>{TransferResult{StatusCode{status::kBadUserAccessDenied}, {}}},
      Result<std::vector<TransferResult>>(fault(status::kBadServiceUnsupported)),
      std::vector<TransferResult>{},
  };
  for (const auto& refused : answers) {
    m_ = SessionMachine(settings());
    outstanding_ = 0;
    start_fresh();
    break_and_reconnect(false);
    open_session(true);
    expect(Kind::kTransferSubscription);
    m_.on_subscription_transferred(refused);
    auto ev = events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].kind, EventKind::kTransferRefused);
    EXPECT_EQ(ev[0].subscription_id, kSub);
    EXPECT_FALSE(ev[0].detail.empty());
    create(kSub + 1);
    ev = events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].kind, EventKind::kReady);
    EXPECT_EQ(m_.counters().subscription_transfers, 0u);
  }
}

TEST_F(SessionMachineTest, OtherTagsOnTheNewSessionMakeANewSubscriptionWithoutTransfer) {
  start_fresh();
  break_and_reconnect(false);
  open_session(false);
  expect(Kind::kCreateSubscription);
}

TEST_F(SessionMachineTest, HalfMadeSubscriptionIsDeletedAndMadeAgainOnTheReactivatedSession) {
  expect(Kind::kConnect);
  m_.on_connected(false);
  open_session(false);
  expect(Kind::kCreateSubscription);
  m_.on_subscription_created(created(kSub));
  expect(Kind::kCreateMonitoredItems);
  break_and_reconnect(true);  // the items were never made
  EXPECT_TRUE(events().empty());
  m_.on_session_reactivated(Status::ok());
  EXPECT_EQ(expect(Kind::kDeleteSubscription).subscription_id, kSub);
  m_.on_subscription_deleted(Status::ok());
  create(kSub + 1);
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kReady);
  EXPECT_TRUE(ev[0].resumed);
  EXPECT_EQ(m_.subscription_id(), kSub + 1);
}

TEST_F(SessionMachineTest, HalfMadeSubscriptionOfAnOldSessionIsNotTransferredNorDeleted) {
  expect(Kind::kConnect);
  m_.on_connected(false);
  open_session(true);
  m_.on_subscription_created(created(kSub));
  m_.on_monitored_items_created(unavailable("reset"));  // a service failure: the connection goes
  expect(Kind::kDisconnect);
  m_.on_disconnected();
  m_.on_connected(false);
  open_session(true);
  expect(Kind::kCreateSubscription);
}

TEST_F(SessionMachineTest, TagsNeverResolvedOnASessionAreResolvedAfterItsReactivation) {
  expect(Kind::kConnect);
  m_.on_connected(false);
  m_.on_session_opened(Status::ok());
  expect(Kind::kResolveTags);
  break_and_reconnect(true);
  m_.on_session_reactivated(Status::ok());
  expect(Kind::kResolveTags);
  m_.on_tags_resolved(Status::ok(), false);
  expect(Kind::kCreateSubscription);
}

TEST_F(SessionMachineTest, TransfersASubscriptionOfAnOldSessionAfterReactivatingANewOne) {
  start_fresh();
  break_and_reconnect(true);
  m_.on_session_reactivated(fault(status::kBadSessionIdInvalid));
  m_.on_session_opened(Status::ok());
  expect(Kind::kResolveTags);
  break_and_reconnect(true);  // the new session's tags were never resolved
  m_.on_session_reactivated(Status::ok());
  m_.on_tags_resolved(Status::ok(), true);
  expect(Kind::kTransferSubscription);  // kSub belongs to the first session
}

TEST_F(SessionMachineTest, WatchdogTripsWithoutAnAnswerAndAnswersMoveIt) {
  start_fresh();
  fill();
  clock_.advance_us(kWatchdogUs - 1);
  answer(keep_alive(kSub, 1));
  fill();
  clock_.advance_us(kWatchdogUs - 1);
  expect(Kind::kWaitPublish);
  clock_.advance_us(1);
  SessionAction d = expect(Kind::kDisconnect);
  EXPECT_EQ(d.reason.code(), uc::StatusCode::kUnavailable);
  EXPECT_NE(d.reason.message().find("within 2000 ms"), std::string::npos) << d.reason.message();
  EXPECT_FALSE(d.forget_session);
  EXPECT_EQ(m_.watchdog_deadline_us(), std::nullopt);
  m_.on_disconnected();
  expect(Kind::kConnect);
}

// Session faults mean the server no longer knows the session: the next connection opens a
// new one (and transfers the subscription); other faults keep it for re-activation.
TEST_F(SessionMachineTest, PublishFaultsThatEndTheConnection) {
  for (std::uint32_t code : {status::kBadSessionIdInvalid, status::kBadSessionClosed, status::kBadSessionNotActivated,
                             status::kBadInternalError}) {
    const bool session_fault = code != status::kBadInternalError;
    m_ = SessionMachine(settings());
    outstanding_ = 0;
    start_fresh();
    fill();
    answer_fault(request_id_, code);
    SessionAction d = expect(Kind::kDisconnect);
    EXPECT_EQ(d.forget_session, session_fault) << status::name(code);
    EXPECT_NE(d.reason.message().find(status::name(code)), std::string::npos) << d.reason.message();
    m_.on_disconnected();
    expect(Kind::kConnect);
    m_.on_connected(!session_fault);  // the client forgot the session as told
    if (session_fault) {
      open_session(true);
      expect(Kind::kTransferSubscription);
    } else {
      expect(Kind::kReactivateSession);
    }
  }
}

TEST_F(SessionMachineTest, BreakDuringAGapAsksOnlyForWhatWasNotHandled) {
  start_fresh();
  fill();
  answer(data(kSub, 1));
  answer(data(kSub, 5));
  m_.on_republished(data(kSub, 2).notification_message, now());
  m_.on_republished(fault(status::kBadMessageNotAvailable), now());
  EXPECT_EQ(expect(Kind::kRepublish).sequence_number, 4u);
  break_and_reconnect(true);
  m_.on_session_reactivated(Status::ok());
  (void)events();
  fill();
  answer(data(kSub, 5));  // 4 and 5 were never handled
  EXPECT_EQ(expect(Kind::kRepublish).sequence_number, 4u);
}

TEST_F(SessionMachineTest, StatusChangeInARepublishedMessageActsAfterTheGap) {
  start_fresh();
  fill();
  answer(data(kSub, 1));
  answer(data(kSub, 3));
  m_.on_republished(status_change(kSub, 2, status::kBadTimeout).notification_message, now());
  auto ev = events();
  ASSERT_EQ(ev.size(), 5u);  // 1, 2, the gap, 3, then the change
  EXPECT_EQ(ev[3].kind, EventKind::kData);
  EXPECT_EQ(ev[4].kind, EventKind::kStatusChanged);
  expect(Kind::kCreateSubscription);
}

TEST_F(SessionMachineTest, MalformedDataChangeDisconnectsWithDataLoss) {
  start_fresh();
  fill();
  PublishResponse r = data(kSub, 1);
  r.notification_message.notification_data[0].body.resize(3);  // truncated
  answer(std::move(r));
  SessionAction d = expect(Kind::kDisconnect);
  EXPECT_EQ(d.reason.code(), uc::StatusCode::kDataLoss);
  EXPECT_TRUE(events().empty());
}

TEST_F(SessionMachineTest, HostileRevisedValuesAreClamped) {
  for (double interval : {std::nan(""), -5.0, 1e300}) {
    SessionMachine m(settings());
    m.next(now(), 0);
    m.on_connected(false);
    m.on_session_opened(Status::ok());
    m.on_tags_resolved(Status::ok(), false);
    CreateSubscriptionResponse c = created(kSub);
    c.revised_publishing_interval = interval;
    c.revised_max_keep_alive_count = std::numeric_limits<std::uint32_t>::max();
    m.on_subscription_created(c);
    m.on_monitored_items_created(Status::ok());
    SessionAction a = m.next(now(), 0);
    ASSERT_EQ(a.kind, Kind::kSendPublish);
    const auto deadline = *m.watchdog_deadline_us() - now();
    EXPECT_GE(deadline, kTimeout * 1000);
    EXPECT_LE(deadline, SessionMachine::kMaxWatchdogUs);
    if (interval > 0) {
      EXPECT_EQ(a.timeout_hint_ms, SessionMachine::kMaxWatchdogUs / 1000 * 4);
    }
  }
}

TEST_F(SessionMachineTest, SetupFailuresDisconnect) {
  expect(Kind::kConnect);
  m_.on_connection_lost(unavailable("refused"));
  EXPECT_EQ(expect(Kind::kDisconnect).reason.message(), "refused");
  m_.on_disconnected();
  m_.on_connected(false);
  m_.on_session_opened(fault(status::kBadIdentityTokenRejected));
  expect(Kind::kDisconnect);
  m_.on_disconnected();
  m_.on_connected(false);
  m_.on_session_opened(Status::ok());
  m_.on_tags_resolved(fault(status::kBadTooManyOperations), false);
  expect(Kind::kDisconnect);
  m_.on_disconnected();
  m_.on_connected(false);
  open_session(false);
  m_.on_subscription_created(Result<CreateSubscriptionResponse>(fault(status::kBadTooManySubscriptions)));
  expect(Kind::kDisconnect);
  EXPECT_TRUE(events().empty());
}

TEST_F(SessionMachineTest, StopDeletesTheSubscriptionAndClosesTheSession) {
  start_fresh();
  fill();
  m_.stop();
  EXPECT_EQ(expect(Kind::kDeleteSubscription).subscription_id, kSub);
  m_.on_subscription_deleted(fault(status::kBadSubscriptionIdInvalid));  // either way
  expect(Kind::kCloseSession);
  m_.on_session_closed();
  expect(Kind::kDone);
  expect(Kind::kDone);
}

TEST_F(SessionMachineTest, StopWhileDisconnectedIsDone) {
  start_fresh();
  m_.on_connection_lost(unavailable("gone"));
  m_.stop();
  expect(Kind::kDone);
}

TEST_F(SessionMachineTest, StopWithSessionButNoSubscriptionOnlyCloses) {
  expect(Kind::kConnect);
  m_.on_connected(false);
  m_.on_session_opened(Status::ok());
  m_.stop();
  expect(Kind::kCloseSession);
}

TEST(SessionMachinePolling, ReadsOncePerIntervalWithoutBurstAfterFallingBehind) {
  ManualClock clock;
  SessionSettings s;
  s.subscribe = false;
  s.polling_interval_ms = 500;
  SessionMachine m(s);
  ASSERT_EQ(m.next(clock.steady_us(), 0).kind, Kind::kConnect);
  m.on_connected(false);
  m.on_session_opened(Status::ok());
  m.on_tags_resolved(Status::ok(), false);
  auto ev = m.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, EventKind::kReady);
  const std::int64_t t0 = clock.steady_us();
  SessionAction a = m.next(t0, 0);
  ASSERT_EQ(a.kind, Kind::kRead);
  EXPECT_EQ(a.deadline_us, t0);
  m.on_read(Status::ok(), t0 + 10'000);
  EXPECT_EQ(m.next(clock.steady_us(), 0).deadline_us, t0 + 500'000);
  m.on_read(Status::ok(), t0 + 2'000'000);  // that read took long
  EXPECT_EQ(m.next(clock.steady_us(), 0).deadline_us, t0 + 2'500'000);
  EXPECT_EQ(m.watchdog_deadline_us(), std::nullopt);
  m.on_read(fault(status::kBadTooManyOperations), t0 + 3'000'000);
  EXPECT_EQ(m.next(clock.steady_us(), 0).kind, Kind::kDisconnect);
  m.on_disconnected();
  m.on_connected(true);
  m.on_session_reactivated(Status::ok());
  ev = m.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(ev[0].resumed);
  clock.advance_us(4'000'000);
  EXPECT_EQ(m.next(clock.steady_us(), 0).deadline_us, clock.steady_us());  // at once after a reconnect
}

}  // namespace
}  // namespace uc::opcua
