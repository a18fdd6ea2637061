// Fuzz target: the OPC UA session + subscription machine, driven by a scripted server
// whose every answer is chosen by the input: Publish answers of our subscription or
// another, sequence numbers that repeat, jump or wrap, data whose DataChangeNotification
// body is input bytes, StatusChange codes, Publish faults, Republish answers and failures,
// refused transfers and lost connections, with time moving by input-chosen steps. Every
// input must run to a bounded end, never a crash or a hang.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "protocols/opcua/encoding.h"
#include "protocols/opcua/generated/status_codes.h"
#include "protocols/opcua/session_machine.h"

namespace {

namespace ua = uc::opcua;
using Kind = ua::SessionAction::Kind;

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return at_ >= size_; }
  std::uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | byte();
    return v;
  }
  std::string bytes(size_t n) {
    n = std::min(n, size_ - std::min(at_, size_));
    std::string s(reinterpret_cast<const char*>(data_ + at_), n);
    at_ += n;
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

ua::NotificationMessage message(Input& in, std::uint32_t seq) {
  ua::NotificationMessage m;
  m.sequence_number = seq;
  const std::uint8_t what = in.byte() % 4;
  if (what == 1) {  // data: a real DataChangeNotification, or input bytes as its body
    ua::DataChangeNotification n;
    n.monitored_items.resize(in.byte() % 4);
    ua::ExtensionObject ext = ua::make_extension(n);
    if (in.byte() % 4 == 0) ext.body = in.bytes(in.byte());
    m.notification_data.push_back(std::move(ext));
  } else if (what == 2) {
    ua::StatusChangeNotification n;
    n.status.code = in.byte() % 2 ? ua::status::kGoodSubscriptionTransferred : in.u32();
    m.notification_data.push_back(ua::make_extension(n));
  }  // else: a keep-alive
  return m;
}

ua::PublishResponse publish_answer(Input& in, std::uint32_t sub, std::uint32_t& seq) {
  ua::PublishResponse r;
  r.subscription_id = in.byte() % 8 == 0 ? sub + 1 : sub;
  const std::uint8_t step = in.byte();
  seq = step < 200 ? seq + 1 : step < 250 ? seq + (step - 198) : in.u32();
  r.notification_message = message(in, seq);
  return r;
}

// The server's answer to `a`; false when the input says "the connection broke".
void answer(ua::SessionMachine& m, const ua::SessionAction& a, Input& in, std::int64_t now, std::uint32_t& seq,
            std::uint32_t& next_id) {
  if (in.byte() % 16 == 0 && a.kind != Kind::kDisconnect && a.kind != Kind::kConnect) {
    m.on_connection_lost(uc::Status(uc::StatusCode::kUnavailable, "fuzz: connection lost"));
    return;
  }
  const uc::Status ok;
  const uc::Status refused(uc::StatusCode::kFailedPrecondition, "fuzz: refused");
  const bool good = in.byte() % 4 != 0;
  switch (a.kind) {
    case Kind::kConnect: m.on_connected(in.byte() % 2 == 0); break;
    case Kind::kReactivateSession: m.on_session_reactivated(good ? ok : refused); break;
    case Kind::kOpenSession: m.on_session_opened(good ? ok : refused); break;
    case Kind::kResolveTags: m.on_tags_resolved(good ? ok : refused, in.byte() % 2 == 0); break;
    case Kind::kCreateSubscription: {
      ua::CreateSubscriptionResponse r;
      r.subscription_id = 1 + in.byte();
      r.revised_publishing_interval = static_cast<double>(in.u32()) / 1000.0;
      r.revised_max_keep_alive_count = in.byte();
      m.on_subscription_created(good ? uc::Result<ua::CreateSubscriptionResponse>(r)
                                     : uc::Result<ua::CreateSubscriptionResponse>(refused));
      break;
    }
    case Kind::kCreateMonitoredItems: m.on_monitored_items_created(good ? ok : refused); break;
    case Kind::kTransferSubscription: {
      std::vector<ua::TransferResult> results(in.byte() % 2);
      for (auto& t : results) {
        t.status_code.code = good ? 0 : ua::status::kBadSubscriptionIdInvalid;
        t.available_sequence_numbers = {seq, seq + 1};
      }
      m.on_subscription_transferred(results);
      break;
    }
    case Kind::kDeleteSubscription: m.on_subscription_deleted(good ? ok : refused); break;
    case Kind::kRepublish:
      m.on_republished(good ? uc::Result<ua::NotificationMessage>(message(in, a.sequence_number))
                            : uc::Result<ua::NotificationMessage>(refused),
                       now);
      break;
    case Kind::kSendPublish: m.on_publish_sent(next_id++); break;
    case Kind::kWaitPublish:
      if (good) {
        m.on_publish_response(publish_answer(in, m.subscription_id(), seq), now);
      } else {
        m.on_publish_fault(next_id - 1 - in.byte() % 4, in.u32(), refused, now);
      }
      break;
    case Kind::kRead: m.on_read(good ? ok : refused, now); break;
    case Kind::kDisconnect: m.on_disconnected(); break;
    case Kind::kCloseSession: m.on_session_closed(); break;
    case Kind::kDone: break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  ua::SessionSettings settings;
  settings.subscribe = in.byte() % 4 != 0;
  settings.publish_requests = 1 + in.byte() % 4;
  ua::SessionMachine m(settings);
  std::int64_t now = 1'000'000;
  std::uint32_t seq = 0, next_id = 1;
  std::size_t outstanding = 0;
  for (int step = 0; step < 4000 && !in.done(); ++step) {
    const ua::SessionAction a = m.next(now, outstanding);
    if (a.kind == Kind::kDone) break;
    if (a.kind == Kind::kSendPublish) ++outstanding;
    if (a.kind == Kind::kWaitPublish && outstanding > 0) --outstanding;
    if (a.kind == Kind::kDisconnect) outstanding = 0;
    answer(m, a, in, now, seq, next_id);
    (void)m.take_events();
    now += static_cast<std::int64_t>(in.byte()) * 10'000;
    if (in.byte() == 0xFF) m.stop();
  }
  m.stop();
  for (int step = 0; step < 8; ++step) {  // the goodbye ends
    const ua::SessionAction a = m.next(now, outstanding);
    if (a.kind == Kind::kDone) break;
    answer(m, a, in, now, seq, next_id);
  }
  return 0;
}
