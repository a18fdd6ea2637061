#include "simulator/opcua/server_core.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "protocols/opcua/generated/node_ids.h"
#include "protocols/opcua/generated/status_codes.h"
#include "protocols/opcua/transport.h"

namespace uc::simulator::opcua {
namespace {

namespace ids = ua::ids;
namespace st = ua::status;

constexpr std::uint32_t kNoRemainingPath = 0xFFFFFFFF;
const ua::Limits kLimits{};

template <typename T>
std::string body_of(const T& message) {
  return ua::encode_service(message);
}

ua::ResponseHeader header_for(const ua::RequestHeader& req, std::int64_t now_us, std::uint32_t result = st::kGood) {
  ua::ResponseHeader h;
  h.timestamp = ua::datetime_from_unix_us(now_us);
  h.request_handle = req.request_handle;
  h.service_result = ua::StatusCode{result};
  return h;
}

std::string fault(const ua::RequestHeader& req, std::int64_t now_us, std::uint32_t code) {
  ua::ServiceFault f;
  f.response_header = header_for(req, now_us, code);
  return body_of(f);
}

bool same_name(const ua::QualifiedName& a, const ua::QualifiedName& b) {
  return a.ns == b.ns && a.name.value_or("") == b.name.value_or("");
}

std::optional<double> as_double(const ua::DataValue& v) {
  if (!v.value || v.value->is_array || v.value->values.empty()) return std::nullopt;
  return std::visit(
      [](const auto& x) -> std::optional<double> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_arithmetic_v<T>) return static_cast<double>(x);
        return std::nullopt;
      },
      v.value->values.front());
}

}  // namespace

struct MonitoredItem {
  std::uint32_t id = 0;
  std::uint32_t client_handle = 0;
  const Node* node = nullptr;
  ua::MonitoringMode mode = ua::MonitoringMode::kReporting;
  ua::TimestampsToReturn timestamps = ua::TimestampsToReturn::kBoth;
  double sampling_ms = 0;
  double deadband = 0;  // absolute; 0 = off
  std::uint64_t reported_version = ~std::uint64_t{0};
  ua::DataValue reported;  // last value sent (deadband reference)
};

struct Subscription {
  std::uint32_t id = 0;
  std::uint64_t session = 0;
  double interval_ms = 1000;
  std::uint32_t lifetime_count = 0;
  std::uint32_t keep_alive_count = 0;
  std::uint32_t max_notifications = 0;
  bool publishing = true;
  std::int64_t next_cycle_us = 0;
  std::uint32_t idle_cycles = 0;    // cycles without anything sent (keep-alive counter)
  std::uint32_t late_cycles = 0;    // cycles without a parked Publish request (lifetime)
  std::uint32_t next_sequence = 1;
  bool first_sent = false;
  bool expired = false;             // no Publish request for lifetime_count cycles
  bool backlog = false;             // the last message said more_notifications
  std::map<std::uint32_t, MonitoredItem> items;
  std::map<std::uint32_t, ua::NotificationMessage> unacked;  // retransmission queue
};

struct ParkedPublish {
  ConnectionId conn = 0;
  std::uint32_t request_id = 0;
  ua::RequestHeader header;
  std::vector<ua::StatusCode> ack_results;
};

struct Session {
  std::uint64_t id = 0;
  ua::NodeId session_id;
  ua::NodeId token;
  ConnectionId conn = 0;
  bool activated = false;
  double timeout_ms = 60000;
  std::int64_t last_seen_us = 0;
  std::deque<ParkedPublish> publish;
  struct Continuation {
    std::vector<ua::ReferenceDescription> rest;
    std::uint32_t max = 0;
  };
  std::map<std::string, Continuation> continuation;  // by continuation point bytes
  std::uint32_t next_point = 1;
};

struct ServerCore::Impl {
  CoreOptions options;
  AddressSpace& space;
  CoreCounters& counters;
  std::mt19937_64 rng{std::random_device{}()};
  std::map<std::uint64_t, Session> sessions;
  std::map<std::string, std::uint64_t> by_token;  // to_string(token) -> session
  std::map<std::uint32_t, Subscription> subscriptions;
  std::uint64_t next_session = 1;
  std::uint32_t next_subscription = 1;
  std::uint32_t next_item = 1;

  Impl(CoreOptions o, AddressSpace& s, CoreCounters& c) : options(std::move(o)), space(s), counters(c) {}

  ua::ByteString nonce() {
    std::string b(32, '\0');
    for (auto& ch : b) ch = static_cast<char>(rng());
    return ua::ByteString{b};
  }

  ua::ApplicationDescription application() const {
    ua::ApplicationDescription a;
    a.application_uri = space.options().namespace_uri;
    a.product_uri = std::string("urn:unified-connector");
    a.application_name = {std::string("en"), std::string("unified-connector OPC UA simulator")};
    a.application_type = ua::ApplicationType::kServer;
    a.discovery_urls = {options.endpoint_url};
    return a;
  }

  std::vector<ua::EndpointDescription> endpoints(const ua::String& url) const {
    ua::EndpointDescription e;
    e.endpoint_url = url && url->rfind("opc.tcp://", 0) == 0 ? url : ua::String(options.endpoint_url);
    e.server = application();
    e.security_mode = ua::MessageSecurityMode::kNone;
    e.security_policy_uri = std::string(ua::kSecurityPolicyNone);
    ua::UserTokenPolicy anon;
    anon.policy_id = std::string("anonymous");
    anon.token_type = ua::UserTokenType::kAnonymous;
    e.user_identity_tokens.push_back(anon);
    if (options.user) {
      ua::UserTokenPolicy user;
      user.policy_id = std::string("username");
      user.token_type = ua::UserTokenType::kUserName;
      user.security_policy_uri = std::string(ua::kSecurityPolicyNone);
      e.user_identity_tokens.push_back(user);
    }
    e.transport_profile_uri = std::string(ua::kTransportProfileBinary);
    e.security_level = 0;
    return {e};
  }

  // The activated session a request belongs to, or the status to fault with.
  std::pair<Session*, std::uint32_t> session_of(const ua::RequestHeader& h, ConnectionId conn, std::int64_t now_us) {
    const auto it = by_token.find(ua::to_string(h.authentication_token));
    if (it == by_token.end()) return {nullptr, st::kBadSessionIdInvalid};
    Session& s = sessions.at(it->second);
    if (!s.activated) return {nullptr, st::kBadSessionNotActivated};
    if (s.conn != conn) return {nullptr, st::kBadSecureChannelIdInvalid};
    s.last_seen_us = now_us;
    return {&s, st::kGood};
  }

  void delete_subscription(std::uint32_t id) { subscriptions.erase(id); }

  void delete_session(std::uint64_t id, bool delete_subs) {
    auto it = sessions.find(id);
    if (it == sessions.end()) return;
    by_token.erase(ua::to_string(it->second.token));
    if (delete_subs) {
      for (auto s = subscriptions.begin(); s != subscriptions.end();) {
        s = s->second.session == id ? subscriptions.erase(s) : std::next(s);
      }
    }
    sessions.erase(it);
  }

  // ---- discovery and sessions ---------------------------------------------------------
  std::string get_endpoints(const ua::GetEndpointsRequest& r, std::int64_t now) {
    ua::GetEndpointsResponse resp;
    resp.response_header = header_for(r.request_header, now);
    resp.endpoints = endpoints(r.endpoint_url);
    return body_of(resp);
  }

  std::string find_servers(const ua::FindServersRequest& r, std::int64_t now) {
    ua::FindServersResponse resp;
    resp.response_header = header_for(r.request_header, now);
    resp.servers = {application()};
    return body_of(resp);
  }

  std::string create_session(const ua::CreateSessionRequest& r, ConnectionId conn, std::int64_t now) {
    if (sessions.size() >= options.max_sessions) return fault(r.request_header, now, st::kBadTooManySessions);
    Session s;
    s.id = next_session++;
    s.session_id = ua::NodeId(1, static_cast<std::uint32_t>(s.id));
    s.token.ns = 1;
    s.token.id = nonce();
    s.conn = conn;
    s.timeout_ms = std::clamp(r.requested_session_timeout, 1'000.0, 3'600'000.0);
    s.last_seen_us = now;
    ua::CreateSessionResponse resp;
    resp.response_header = header_for(r.request_header, now);
    resp.session_id = s.session_id;
    resp.authentication_token = s.token;
    resp.revised_session_timeout = s.timeout_ms;
    resp.server_nonce = nonce();
    resp.server_endpoints = endpoints(r.endpoint_url);
    resp.max_request_message_size = 0;
    by_token[ua::to_string(s.token)] = s.id;
    sessions.emplace(s.id, std::move(s));
    return body_of(resp);
  }

  std::string activate_session(const ua::ActivateSessionRequest& r, ConnectionId conn, std::int64_t now) {
    const auto it = by_token.find(ua::to_string(r.request_header.authentication_token));
    if (it == by_token.end()) return fault(r.request_header, now, st::kBadSessionIdInvalid);
    Session& s = sessions.at(it->second);
    const auto& tok = r.user_identity_token;
    bool ok = false;
    if (tok.type_id == ua::NodeId(ids::kAnonymousIdentityToken_Encoding_DefaultBinary) ||
        (tok.encoding == ua::ExtensionObject::Encoding::kNone && tok.type_id.is_null())) {
      ok = true;
    } else if (tok.type_id == ua::NodeId(ids::kUserNameIdentityToken_Encoding_DefaultBinary)) {
      ua::UserNameIdentityToken u;
      if (!ua::decode_extension(tok, u, kLimits)) return fault(r.request_header, now, st::kBadIdentityTokenInvalid);
      if (!options.user || u.encryption_algorithm.value_or("") != "") {
        return fault(r.request_header, now, st::kBadIdentityTokenRejected);
      }
      ok = u.user_name.value_or("") == *options.user && u.password.data.value_or("") == options.password.value_or("");
      if (!ok) return fault(r.request_header, now, st::kBadUserAccessDenied);
    }
    if (!ok) return fault(r.request_header, now, st::kBadIdentityTokenInvalid);
    if (s.conn != conn) {
      // Re-activation on a new channel: the session (and its subscriptions) move over.
      s.publish.clear();
      s.conn = conn;
    }
    s.activated = true;
    s.last_seen_us = now;
    ua::ActivateSessionResponse resp;
    resp.response_header = header_for(r.request_header, now);
    resp.server_nonce = nonce();
    return body_of(resp);
  }

  std::string close_session(const ua::CloseSessionRequest& r, ConnectionId conn, std::int64_t now,
                            std::vector<Outgoing>& out) {
    const auto it = by_token.find(ua::to_string(r.request_header.authentication_token));
    if (it == by_token.end()) return fault(r.request_header, now, st::kBadSessionIdInvalid);
    Session& s = sessions.at(it->second);
    if (s.conn != conn) return fault(r.request_header, now, st::kBadSecureChannelIdInvalid);
    for (const auto& p : s.publish) out.push_back({p.conn, p.request_id, fault(p.header, now, st::kBadSessionClosed)});
    delete_session(s.id, r.delete_subscriptions);
    ua::CloseSessionResponse resp;
    resp.response_header = header_for(r.request_header, now);
    return body_of(resp);
  }

  // ---- view services ------------------------------------------------------------------
  std::vector<ua::ReferenceDescription> references(const Node& n, const ua::BrowseDescription& d) {
    std::vector<ua::ReferenceDescription> out;
    const std::uint32_t want = d.reference_type_id.is_null() || d.reference_type_id.ns != 0 ||
                                       d.reference_type_id.id.index() != 0
                                   ? 0
                                   : std::get<0>(d.reference_type_id.id);
    for (const Reference& r : n.refs) {
      if (d.browse_direction == ua::BrowseDirection::kForward && !r.forward) continue;
      if (d.browse_direction == ua::BrowseDirection::kInverse && r.forward) continue;
      if (want != 0 && r.type != want && !(d.include_subtypes && is_subtype_of(r.type, want))) continue;
      const Node* t = space.find(r.target);
      if (t == nullptr) continue;
      if (d.node_class_mask != 0 && (d.node_class_mask & static_cast<std::uint32_t>(t->node_class)) == 0) continue;
      ua::ReferenceDescription rd;
      rd.reference_type_id = ua::NodeId(r.type);
      rd.is_forward = r.forward;
      rd.node_id.node_id = t->id;
      rd.browse_name = t->browse_name;
      rd.display_name = t->display_name;
      rd.node_class = t->node_class;
      for (const Reference& tr : t->refs) {
        if (tr.type == ids::kHasTypeDefinition && tr.forward) rd.type_definition.node_id = tr.target;
      }
      out.push_back(std::move(rd));
    }
    return out;
  }

  ua::BrowseResult page(Session& s, std::vector<ua::ReferenceDescription> refs, std::uint32_t max) {
    ua::BrowseResult r;
    if (max != 0 && refs.size() > max) {
      if (s.continuation.size() >= 16) s.continuation.erase(s.continuation.begin());  // oldest point
      const std::string point = "cp" + std::to_string(s.next_point++);
      s.continuation[point] = {std::vector<ua::ReferenceDescription>(refs.begin() + max, refs.end()), max};
      refs.resize(max);
      r.continuation_point = ua::ByteString{point};
    }
    r.references = std::move(refs);
    return r;
  }

  std::string browse(const ua::BrowseRequest& r, Session& s, std::int64_t now) {
    if (r.nodes_to_browse.empty()) return fault(r.request_header, now, st::kBadNothingToDo);
    if (r.nodes_to_browse.size() > space.options().max_nodes_per_browse) {
      return fault(r.request_header, now, st::kBadTooManyOperations);
    }
    ua::BrowseResponse resp;
    resp.response_header = header_for(r.request_header, now);
    for (const auto& d : r.nodes_to_browse) {
      const Node* n = space.find(d.node_id);
      if (n == nullptr) {
        ua::BrowseResult br;
        br.status_code = ua::StatusCode{st::kBadNodeIdUnknown};
        resp.results.push_back(std::move(br));
        continue;
      }
      resp.results.push_back(page(s, references(*n, d), r.requested_max_references_per_node));
    }
    return body_of(resp);
  }

  std::string browse_next(const ua::BrowseNextRequest& r, Session& s, std::int64_t now) {
    if (r.continuation_points.empty()) return fault(r.request_header, now, st::kBadNothingToDo);
    ua::BrowseNextResponse resp;
    resp.response_header = header_for(r.request_header, now);
    for (const auto& cp : r.continuation_points) {
      const std::string point = cp.data.value_or("");
      const auto it = s.continuation.find(point);
      ua::BrowseResult br;
      if (it == s.continuation.end()) {
        br.status_code = ua::StatusCode{st::kBadContinuationPointInvalid};
      } else if (!r.release_continuation_points) {
        Session::Continuation c = std::move(it->second);
        s.continuation.erase(it);
        br = page(s, std::move(c.rest), c.max);
      } else {
        s.continuation.erase(it);
      }
      resp.results.push_back(std::move(br));
    }
    return body_of(resp);
  }

  std::string translate(const ua::TranslateBrowsePathsToNodeIdsRequest& r, std::int64_t now) {
    if (r.browse_paths.empty()) return fault(r.request_header, now, st::kBadNothingToDo);
    if (r.browse_paths.size() > space.options().max_nodes_per_browse) {
      return fault(r.request_header, now, st::kBadTooManyOperations);
    }
    ua::TranslateBrowsePathsToNodeIdsResponse resp;
    resp.response_header = header_for(r.request_header, now);
    for (const auto& path : r.browse_paths) {
      ua::BrowsePathResult res;
      const Node* cur = space.find(path.starting_node);
      if (cur == nullptr) {
        res.status_code = ua::StatusCode{st::kBadNodeIdUnknown};
      } else if (path.relative_path.elements.empty()) {
        res.status_code = ua::StatusCode{st::kBadNothingToDo};
      } else {
        for (const auto& el : path.relative_path.elements) {
          if (!el.target_name.name || el.target_name.name->empty()) {
            cur = nullptr;
            res.status_code = ua::StatusCode{st::kBadBrowseNameInvalid};
            break;
          }
          const std::uint32_t want = el.reference_type_id.id.index() == 0 ? std::get<0>(el.reference_type_id.id) : 0;
          const Node* next = nullptr;
          for (const Reference& ref : cur->refs) {
            if (ref.forward == el.is_inverse) continue;
            if (want != 0 && ref.type != want && !(el.include_subtypes && is_subtype_of(ref.type, want))) continue;
            const Node* t = space.find(ref.target);
            if (t != nullptr && same_name(t->browse_name, el.target_name)) {
              next = t;
              break;
            }
          }
          cur = next;
          if (cur == nullptr) {
            res.status_code = ua::StatusCode{st::kBadNoMatch};
            break;
          }
        }
        if (cur != nullptr) {
          ua::BrowsePathTarget t;
          t.target_id.node_id = cur->id;
          t.remaining_path_index = kNoRemainingPath;
          res.targets.push_back(t);
        }
      }
      resp.results.push_back(std::move(res));
    }
    return body_of(resp);
  }

  // ---- attribute services ------------------------------------------------------------
  static ua::DataValue with_timestamps(ua::DataValue v, ua::TimestampsToReturn ts, std::int64_t now) {
    const bool source = ts == ua::TimestampsToReturn::kSource || ts == ua::TimestampsToReturn::kBoth;
    const bool server = ts == ua::TimestampsToReturn::kServer || ts == ua::TimestampsToReturn::kBoth;
    if (!source) v.source_timestamp.reset();
    if (server) v.server_timestamp = ua::datetime_from_unix_us(now);
    else v.server_timestamp.reset();
    return v;
  }

  std::string read(const ua::ReadRequest& r, std::int64_t now) {
    if (r.nodes_to_read.empty()) return fault(r.request_header, now, st::kBadNothingToDo);
    if (r.nodes_to_read.size() > space.options().max_nodes_per_read) {
      return fault(r.request_header, now, st::kBadTooManyOperations);
    }
    if (r.max_age < 0) return fault(r.request_header, now, st::kBadMaxAgeInvalid);
    if (static_cast<std::int32_t>(r.timestamps_to_return) < 0 ||
        r.timestamps_to_return > ua::TimestampsToReturn::kNeither) {
      return fault(r.request_header, now, st::kBadTimestampsToReturnInvalid);
    }
    ua::ReadResponse resp;
    resp.response_header = header_for(r.request_header, now);
    resp.results.reserve(r.nodes_to_read.size());
    for (const auto& rv : r.nodes_to_read) {
      if (rv.index_range && !rv.index_range->empty()) {
        ua::DataValue bad;
        bad.status = ua::StatusCode{st::kBadIndexRangeInvalid};
        resp.results.push_back(std::move(bad));
        continue;
      }
      ua::DataValue v = space.read(rv.node_id, rv.attribute_id);
      if (rv.attribute_id == attr::kValue && (!v.status || !v.status->is_bad() || v.value)) {
        v = with_timestamps(std::move(v), r.timestamps_to_return, now);
      }
      resp.results.push_back(std::move(v));
    }
    return body_of(resp);
  }

  // ---- subscriptions ---------------------------------------------------------------------
  void revise(Subscription& s, double interval, std::uint32_t lifetime, std::uint32_t keep_alive,
              std::uint32_t max_notifications) {
    s.interval_ms = std::isfinite(interval) ? std::clamp(interval, 50.0, 3'600'000.0) : 1000.0;
    if (interval <= 0) s.interval_ms = std::max(50.0, static_cast<double>(space.options().update_ms) / 2);
    s.keep_alive_count = std::clamp<std::uint32_t>(keep_alive == 0 ? 10 : keep_alive, 1, 10000);
    s.lifetime_count = std::max<std::uint32_t>(lifetime, 3 * s.keep_alive_count);
    s.max_notifications = max_notifications;
  }

  Subscription* subscription_of(Session& s, std::uint32_t id) {
    const auto it = subscriptions.find(id);
    return it == subscriptions.end() || it->second.session != s.id ? nullptr : &it->second;
  }

  std::string create_subscription(const ua::CreateSubscriptionRequest& r, Session& s, std::int64_t now) {
    Subscription sub;
    sub.id = next_subscription++;
    sub.session = s.id;
    revise(sub, r.requested_publishing_interval, r.requested_lifetime_count, r.requested_max_keep_alive_count,
           r.max_notifications_per_publish);
    sub.publishing = r.publishing_enabled;
    sub.next_cycle_us = now + static_cast<std::int64_t>(sub.interval_ms * 1000);
    ua::CreateSubscriptionResponse resp;
    resp.response_header = header_for(r.request_header, now);
    resp.subscription_id = sub.id;
    resp.revised_publishing_interval = sub.interval_ms;
    resp.revised_lifetime_count = sub.lifetime_count;
    resp.revised_max_keep_alive_count = sub.keep_alive_count;
    subscriptions.emplace(sub.id, std::move(sub));
    return body_of(resp);
  }

  std::string modify_subscription(const ua::ModifySubscriptionRequest& r, Session& s, std::int64_t now) {
    Subscription* sub = subscription_of(s, r.subscription_id);
    if (sub == nullptr) return fault(r.request_header, now, st::kBadSubscriptionIdInvalid);
    revise(*sub, r.requested_publishing_interval, r.requested_lifetime_count, r.requested_max_keep_alive_count,
           r.max_notifications_per_publish);
    ua::ModifySubscriptionResponse resp;
    resp.response_header = header_for(r.request_header, now);
    resp.revised_publishing_interval = sub->interval_ms;
    resp.revised_lifetime_count = sub->lifetime_count;
    resp.revised_max_keep_alive_count = sub->keep_alive_count;
    return body_of(resp);
  }

  std::string set_publishing_mode(const ua::SetPublishingModeRequest& r, Session& s, std::int64_t now) {
    if (r.subscription_ids.empty()) return fault(r.request_header, now, st::kBadNothingToDo);
    ua::SetPublishingModeResponse resp;
    resp.response_header = header_for(r.request_header, now);
    for (const auto id : r.subscription_ids) {
      Subscription* sub = subscription_of(s, id);
      if (sub != nullptr) sub->publishing = r.publishing_enabled;
      resp.results.push_back(ua::StatusCode{sub != nullptr ? st::kGood : st::kBadSubscriptionIdInvalid});
    }
    return body_of(resp);
  }

  std::string delete_subscriptions(const ua::DeleteSubscriptionsRequest& r, Session& s, std::int64_t now) {
    if (r.subscription_ids.empty()) return fault(r.request_header, now, st::kBadNothingToDo);
    ua::DeleteSubscriptionsResponse resp;
    resp.response_header = header_for(r.request_header, now);
    for (const auto id : r.subscription_ids) {
      const bool ok = subscription_of(s, id) != nullptr;
      if (ok) delete_subscription(id);
      resp.results.push_back(ua::StatusCode{ok ? st::kGood : st::kBadSubscriptionIdInvalid});
    }
    return body_of(resp);
  }

  std::string transfer_subscriptions(const ua::TransferSubscriptionsRequest& r, Session& s, std::int64_t now) {
    if (r.subscription_ids.empty()) return fault(r.request_header, now, st::kBadNothingToDo);
    ua::TransferSubscriptionsResponse resp;
    resp.response_header = header_for(r.request_header, now);
    for (const auto id : r.subscription_ids) {
      ua::TransferResult tr;
      const auto it = subscriptions.find(id);
      if (it == subscriptions.end()) {
        tr.status_code = ua::StatusCode{st::kBadSubscriptionIdInvalid};
      } else {
        it->second.session = s.id;
        for (const auto& [seq, msg] : it->second.unacked) tr.available_sequence_numbers.push_back(seq);
        if (r.send_initial_values) {
          for (auto& [iid, item] : it->second.items) item.reported_version = ~std::uint64_t{0};
        }
      }
      resp.results.push_back(std::move(tr));
    }
    return body_of(resp);
  }

  // Sets an item's parameters; returns the status for the item.
  std::uint32_t apply_parameters(MonitoredItem& item, const ua::MonitoringParameters& p, const Subscription& sub,
                                 ua::MonitoredItemCreateResult& result) {
    double deadband = 0;
    if (p.filter.encoding != ua::ExtensionObject::Encoding::kNone || !p.filter.type_id.is_null()) {
      ua::DataChangeFilter f;
      if (!ua::decode_extension(p.filter, f, kLimits)) return st::kBadMonitoredItemFilterUnsupported;
      if (f.deadband_type == 2) return st::kBadMonitoredItemFilterUnsupported;  // percent: no EURange here
      if (f.deadband_type == 1) {
        if (!(f.deadband_value >= 0) || !std::isfinite(f.deadband_value)) return st::kBadDeadbandFilterInvalid;
        if (!as_double(item.node->value)) return st::kBadFilterNotAllowed;
        deadband = f.deadband_value;
      } else if (f.deadband_type != 0) {
        return st::kBadDeadbandFilterInvalid;
      }
    }
    item.deadband = deadband;
    item.client_handle = p.client_handle;
    const double fastest = static_cast<double>(space.options().update_ms);
    item.sampling_ms = p.sampling_interval < 0 ? sub.interval_ms : std::max(p.sampling_interval, fastest);
    result.revised_sampling_interval = item.sampling_ms;
    result.revised_queue_size = 1;  // the latest value per publishing cycle
    return st::kGood;
  }

  std::string create_items(const ua::CreateMonitoredItemsRequest& r, Session& s, std::int64_t now) {
    Subscription* sub = subscription_of(s, r.subscription_id);
    if (sub == nullptr) return fault(r.request_header, now, st::kBadSubscriptionIdInvalid);
    if (r.items_to_create.empty()) return fault(r.request_header, now, st::kBadNothingToDo);
    if (r.items_to_create.size() > space.options().max_monitored_items_per_call) {
      return fault(r.request_header, now, st::kBadTooManyOperations);
    }
    if (r.timestamps_to_return > ua::TimestampsToReturn::kNeither ||
        static_cast<std::int32_t>(r.timestamps_to_return) < 0) {
      return fault(r.request_header, now, st::kBadTimestampsToReturnInvalid);
    }
    ua::CreateMonitoredItemsResponse resp;
    resp.response_header = header_for(r.request_header, now);
    for (const auto& req : r.items_to_create) {
      ua::MonitoredItemCreateResult res;
      const Node* n = space.find(req.item_to_monitor.node_id);
      if (n == nullptr) {
        res.status_code = ua::StatusCode{st::kBadNodeIdUnknown};
      } else if (req.item_to_monitor.attribute_id != attr::kValue || n->node_class != ua::NodeClass::kVariable) {
        res.status_code = ua::StatusCode{st::kBadAttributeIdInvalid};
      } else {
        MonitoredItem item;
        item.node = n;
        item.mode = req.monitoring_mode;
        item.timestamps = r.timestamps_to_return;
        const std::uint32_t code = apply_parameters(item, req.requested_parameters, *sub, res);
        res.status_code = ua::StatusCode{code};
        if (code == st::kGood) {
          item.id = next_item++;
          res.monitored_item_id = item.id;
          sub->items.emplace(item.id, std::move(item));
        }
      }
      resp.results.push_back(std::move(res));
    }
    return body_of(resp);
  }

  std::string modify_items(const ua::ModifyMonitoredItemsRequest& r, Session& s, std::int64_t now) {
    Subscription* sub = subscription_of(s, r.subscription_id);
    if (sub == nullptr) return fault(r.request_header, now, st::kBadSubscriptionIdInvalid);
    if (r.items_to_modify.empty()) return fault(r.request_header, now, st::kBadNothingToDo);
    ua::ModifyMonitoredItemsResponse resp;
    resp.response_header = header_for(r.request_header, now);
    for (const auto& req : r.items_to_modify) {
      ua::MonitoredItemModifyResult res;
      const auto it = sub->items.find(req.monitored_item_id);
      if (it == sub->items.end()) {
        res.status_code = ua::StatusCode{st::kBadMonitoredItemIdInvalid};
      } else {
        ua::MonitoredItemCreateResult tmp;
        MonitoredItem copy = it->second;
        const std::uint32_t code = apply_parameters(copy, req.requested_parameters, *sub, tmp);
        if (code == st::kGood) it->second = copy;
        res.status_code = ua::StatusCode{code};
        res.revised_sampling_interval = tmp.revised_sampling_interval;
        res.revised_queue_size = tmp.revised_queue_size;
      }
      resp.results.push_back(std::move(res));
    }
    return body_of(resp);
  }

  std::string set_monitoring_mode(const ua::SetMonitoringModeRequest& r, Session& s, std::int64_t now) {
    Subscription* sub = subscription_of(s, r.subscription_id);
    if (sub == nullptr) return fault(r.request_header, now, st::kBadSubscriptionIdInvalid);
    if (r.monitored_item_ids.empty()) return fault(r.request_header, now, st::kBadNothingToDo);
    ua::SetMonitoringModeResponse resp;
    resp.response_header = header_for(r.request_header, now);
    for (const auto id : r.monitored_item_ids) {
      const auto it = sub->items.find(id);
      if (it != sub->items.end()) it->second.mode = r.monitoring_mode;
      resp.results.push_back(ua::StatusCode{it != sub->items.end() ? st::kGood : st::kBadMonitoredItemIdInvalid});
    }
    return body_of(resp);
  }

  std::string delete_items(const ua::DeleteMonitoredItemsRequest& r, Session& s, std::int64_t now) {
    Subscription* sub = subscription_of(s, r.subscription_id);
    if (sub == nullptr) return fault(r.request_header, now, st::kBadSubscriptionIdInvalid);
    if (r.monitored_item_ids.empty()) return fault(r.request_header, now, st::kBadNothingToDo);
    ua::DeleteMonitoredItemsResponse resp;
    resp.response_header = header_for(r.request_header, now);
    for (const auto id : r.monitored_item_ids) {
      resp.results.push_back(ua::StatusCode{sub->items.erase(id) != 0 ? st::kGood : st::kBadMonitoredItemIdInvalid});
    }
    return body_of(resp);
  }

  void publish(ConnectionId conn, std::uint32_t request_id, const ua::PublishRequest& r, Session& s,
               std::int64_t now, std::vector<Outgoing>& out) {
    ParkedPublish p;
    p.conn = conn;
    p.request_id = request_id;
    p.header = r.request_header;
    for (const auto& ack : r.subscription_acknowledgements) {
      Subscription* sub = subscription_of(s, ack.subscription_id);
      std::uint32_t code = st::kBadSubscriptionIdInvalid;
      if (sub != nullptr) code = sub->unacked.erase(ack.sequence_number) != 0 ? st::kGood : st::kBadSequenceNumberUnknown;
      p.ack_results.push_back(ua::StatusCode{code});
    }
    const bool any = std::any_of(subscriptions.begin(), subscriptions.end(),
                                 [&](const auto& kv) { return kv.second.session == s.id; });
    if (!any) {
      out.push_back({conn, request_id, fault(r.request_header, now, st::kBadNoSubscription)});
      return;
    }
    if (s.publish.size() >= options.max_publish_requests) {
      const ParkedPublish old = std::move(s.publish.front());
      s.publish.pop_front();
      out.push_back({old.conn, old.request_id, fault(old.header, now, st::kBadTooManyPublishRequests)});
    }
    s.publish.push_back(std::move(p));
    // A subscription that had more than its last message held sends the rest now rather
    // than at its next cycle (a client with one Publish outstanding would fall behind).
    for (auto& [id, sub] : subscriptions) {
      if (sub.session == s.id && sub.backlog && sub.publishing && !s.publish.empty()) drain(sub, s, now, out, false);
    }
  }

  std::string republish(const ua::RepublishRequest& r, Session& s, std::int64_t now) {
    Subscription* sub = subscription_of(s, r.subscription_id);
    if (sub == nullptr) return fault(r.request_header, now, st::kBadSubscriptionIdInvalid);
    const auto it = sub->unacked.find(r.retransmit_sequence_number);
    if (it == sub->unacked.end()) return fault(r.request_header, now, st::kBadMessageNotAvailable);
    ua::RepublishResponse resp;
    resp.response_header = header_for(r.request_header, now);
    resp.notification_message = it->second;
    return body_of(resp);
  }

  // One publishing cycle of `sub`: sends notifications (several responses when more
  // changed than one message holds and Publish requests are parked) or a keep-alive.
  void cycle(Subscription& sub, Session& s, std::int64_t now, std::vector<Outgoing>& out) {
    if (s.publish.empty()) {
      sub.expired = ++sub.late_cycles > sub.lifetime_count;
      return;
    }
    sub.late_cycles = 0;
    drain(sub, s, now, out, true);
  }

  // Sends what changed while Publish requests are parked; with `keep_alive`, an empty
  // first message is a keep-alive when one is due.
  void drain(Subscription& sub, Session& s, std::int64_t now, std::vector<Outgoing>& out, bool keep_alive) {
    const std::size_t cap = std::min<std::size_t>(
        sub.max_notifications == 0 ? options.max_notifications_per_message : sub.max_notifications,
        options.max_notifications_per_message);
    for (bool first = true; !s.publish.empty(); first = false) {
      std::vector<ua::MonitoredItemNotification> changes;
      bool more = false;
      if (sub.publishing) collect(sub, cap, now, changes, more);
      if (changes.empty()) {
        sub.backlog = false;
        if (!first || !keep_alive) return;
        if (sub.first_sent && ++sub.idle_cycles < sub.keep_alive_count) return;
      }
      respond(sub, s, now, std::move(changes), more, out);
      sub.backlog = more;
      if (!more) return;
    }
  }

  // Up to `cap` notifications of changed items; `more` when changed items are left over.
  void collect(Subscription& sub, std::size_t cap, std::int64_t now, std::vector<ua::MonitoredItemNotification>& changes,
               bool& more) {
    for (auto& [id, item] : sub.items) {
      if (item.mode != ua::MonitoringMode::kReporting) continue;
      if (item.node->version == item.reported_version) continue;
      const ua::DataValue& v = item.node->value;
      if (item.deadband > 0 && item.reported_version != ~std::uint64_t{0} && v.status == item.reported.status) {
        const auto a = as_double(v), b = as_double(item.reported);
        if (a && b && std::fabs(*a - *b) <= item.deadband) {
          item.reported_version = item.node->version;
          continue;
        }
      }
      if (changes.size() >= cap) {
        more = true;
        return;
      }
      ua::MonitoredItemNotification n;
      n.client_handle = item.client_handle;
      n.value = with_timestamps(v, item.timestamps, now);
      changes.push_back(std::move(n));
      item.reported_version = item.node->version;
      item.reported = v;
    }
  }

  void respond(Subscription& sub, Session& s, std::int64_t now, std::vector<ua::MonitoredItemNotification> changes,
               bool more, std::vector<Outgoing>& out) {
    ParkedPublish p = std::move(s.publish.front());
    s.publish.pop_front();
    ua::PublishResponse resp;
    resp.response_header = header_for(p.header, now);
    resp.subscription_id = sub.id;
    resp.results = std::move(p.ack_results);
    resp.notification_message.publish_time = ua::datetime_from_unix_us(now);
    resp.notification_message.sequence_number = sub.next_sequence;  // a keep-alive does not consume it
    if (!changes.empty()) {
      counters.notifications += changes.size();
      ua::DataChangeNotification dcn;
      dcn.monitored_items = std::move(changes);
      sub.next_sequence = sub.next_sequence == 0xFFFFFFFF ? 1 : sub.next_sequence + 1;
      resp.notification_message.notification_data.push_back(ua::make_extension(dcn));
      sub.unacked[resp.notification_message.sequence_number] = resp.notification_message;
      while (sub.unacked.size() > 20) sub.unacked.erase(sub.unacked.begin());
    }
    for (const auto& [seq, msg] : sub.unacked) resp.available_sequence_numbers.push_back(seq);
    resp.more_notifications = more;
    sub.idle_cycles = 0;
    sub.first_sent = true;
    ++counters.publish_responses;
    out.push_back({p.conn, p.request_id, body_of(resp)});
  }
};

ServerCore::ServerCore(CoreOptions options, std::int64_t now_us)
    : space_(options.space, now_us), impl_(std::make_unique<Impl>(std::move(options), space_, counters_)) {}

ServerCore::~ServerCore() = default;

std::size_t ServerCore::session_count() const { return impl_->sessions.size(); }

std::size_t ServerCore::monitored_item_count() const {
  std::size_t n = 0;
  for (const auto& [id, s] : impl_->subscriptions) n += s.items.size();
  return n;
}

void ServerCore::connection_closed(ConnectionId conn) {
  for (auto& [id, s] : impl_->sessions) {
    if (s.conn != conn) continue;
    s.publish.clear();
    s.conn = 0;
  }
}

void ServerCore::handle(ConnectionId conn, std::uint32_t request_id, std::string_view body, std::int64_t now,
                        std::vector<Outgoing>& out) {
  ++counters_.requests;
  Impl& m = *impl_;
  const std::uint32_t type = ua::peek_service_type(body);
  ua::RequestHeader header;
  {
    // Every request starts with its header: decoded first, so a fault can carry its handle.
    ua::Decoder d(body, kLimits);
    ua::NodeId id;
    if (!ua::decode(d, id) || !ua::decode(d, header)) {
      out.push_back({conn, request_id, fault(header, now, st::kBadDecodingError)});
      return;
    }
  }
  auto reply = [&](std::string b) { out.push_back({conn, request_id, std::move(b)}); };
  // Decodes the request as T, or answers Bad_DecodingError.
  auto as = [&]<typename T>(T& req) {
    if (ua::decode_service(body, req, kLimits).is_ok()) return true;
    reply(fault(header, now, st::kBadDecodingError));
    return false;
  };
  // Session-less services first.
  switch (type) {
    case ua::GetEndpointsRequest::kBinaryEncodingId: {
      ua::GetEndpointsRequest r;
      if (as(r)) reply(m.get_endpoints(r, now));
      return;
    }
    case ua::FindServersRequest::kBinaryEncodingId: {
      ua::FindServersRequest r;
      if (as(r)) reply(m.find_servers(r, now));
      return;
    }
    case ua::CreateSessionRequest::kBinaryEncodingId: {
      ua::CreateSessionRequest r;
      if (as(r)) reply(m.create_session(r, conn, now));
      return;
    }
    case ua::ActivateSessionRequest::kBinaryEncodingId: {
      ua::ActivateSessionRequest r;
      if (as(r)) reply(m.activate_session(r, conn, now));
      return;
    }
    case ua::CloseSessionRequest::kBinaryEncodingId: {
      ua::CloseSessionRequest r;
      if (as(r)) reply(m.close_session(r, conn, now, out));
      return;
    }
    default: break;
  }
  auto [session, code] = m.session_of(header, conn, now);
  if (session == nullptr) {
    reply(fault(header, now, code));
    return;
  }
  Session& s = *session;
  switch (type) {
    case ua::BrowseRequest::kBinaryEncodingId: {
      ua::BrowseRequest r;
      if (as(r)) reply(m.browse(r, s, now));
      return;
    }
    case ua::BrowseNextRequest::kBinaryEncodingId: {
      ua::BrowseNextRequest r;
      if (as(r)) reply(m.browse_next(r, s, now));
      return;
    }
    case ua::TranslateBrowsePathsToNodeIdsRequest::kBinaryEncodingId: {
      ua::TranslateBrowsePathsToNodeIdsRequest r;
      if (as(r)) reply(m.translate(r, now));
      return;
    }
    case ua::ReadRequest::kBinaryEncodingId: {
      ua::ReadRequest r;
      if (as(r)) reply(m.read(r, now));
      return;
    }
    case ua::RegisterNodesRequest::kBinaryEncodingId: {
      ua::RegisterNodesRequest r;
      if (!as(r)) return;
      ua::RegisterNodesResponse resp;
      resp.response_header = header_for(header, now);
      resp.registered_node_ids = r.nodes_to_register;
      reply(body_of(resp));
      return;
    }
    case ua::UnregisterNodesRequest::kBinaryEncodingId: {
      ua::UnregisterNodesRequest r;
      if (!as(r)) return;
      ua::UnregisterNodesResponse resp;
      resp.response_header = header_for(header, now);
      reply(body_of(resp));
      return;
    }
    case ua::CreateSubscriptionRequest::kBinaryEncodingId: {
      ua::CreateSubscriptionRequest r;
      if (as(r)) reply(m.create_subscription(r, s, now));
      return;
    }
    case ua::ModifySubscriptionRequest::kBinaryEncodingId: {
      ua::ModifySubscriptionRequest r;
      if (as(r)) reply(m.modify_subscription(r, s, now));
      return;
    }
    case ua::SetPublishingModeRequest::kBinaryEncodingId: {
      ua::SetPublishingModeRequest r;
      if (as(r)) reply(m.set_publishing_mode(r, s, now));
      return;
    }
    case ua::DeleteSubscriptionsRequest::kBinaryEncodingId: {
      ua::DeleteSubscriptionsRequest r;
      if (as(r)) reply(m.delete_subscriptions(r, s, now));
      return;
    }
    case ua::TransferSubscriptionsRequest::kBinaryEncodingId: {
      ua::TransferSubscriptionsRequest r;
      if (as(r)) reply(m.transfer_subscriptions(r, s, now));
      return;
    }
    case ua::CreateMonitoredItemsRequest::kBinaryEncodingId: {
      ua::CreateMonitoredItemsRequest r;
      if (as(r)) reply(m.create_items(r, s, now));
      return;
    }
    case ua::ModifyMonitoredItemsRequest::kBinaryEncodingId: {
      ua::ModifyMonitoredItemsRequest r;
      if (as(r)) reply(m.modify_items(r, s, now));
      return;
    }
    case ua::SetMonitoringModeRequest::kBinaryEncodingId: {
      ua::SetMonitoringModeRequest r;
      if (as(r)) reply(m.set_monitoring_mode(r, s, now));
      return;
    }
    case ua::DeleteMonitoredItemsRequest::kBinaryEncodingId: {
      ua::DeleteMonitoredItemsRequest r;
      if (as(r)) reply(m.delete_items(r, s, now));
      return;
    }
    case ua::PublishRequest::kBinaryEncodingId: {
      ua::PublishRequest r;
      if (as(r)) m.publish(conn, request_id, r, s, now, out);
      return;
    }
    case ua::RepublishRequest::kBinaryEncodingId: {
      ua::RepublishRequest r;
      if (as(r)) reply(m.republish(r, s, now));
      return;
    }
    default: reply(fault(header, now, st::kBadServiceUnsupported));
  }
}

void ServerCore::tick(std::int64_t now, std::vector<Outgoing>& out) {
  Impl& m = *impl_;
  space_.update(now);
  for (auto it = m.subscriptions.begin(); it != m.subscriptions.end();) {
    Subscription& sub = it->second;
    auto sit = m.sessions.find(sub.session);
    if (sit == m.sessions.end()) {
      // Its session timed out: it waits for TransferSubscriptions until its own lifetime
      // ends (Part 4 §5.7.2.1: only CloseSession with deleteSubscriptions deletes it).
      if (now >= sub.next_cycle_us) {
        sub.next_cycle_us = now + static_cast<std::int64_t>(sub.interval_ms * 1000);
        if (++sub.late_cycles > sub.lifetime_count) {
          it = m.subscriptions.erase(it);
          continue;
        }
      }
      ++it;
      continue;
    }
    if (now >= sub.next_cycle_us) {
      const auto step = static_cast<std::int64_t>(sub.interval_ms * 1000);
      sub.next_cycle_us += step;
      if (sub.next_cycle_us <= now) sub.next_cycle_us = now + step;  // fell behind: skip, do not burst
      m.cycle(sub, sit->second, now, out);
      if (sub.expired) {
        it = m.subscriptions.erase(it);
        continue;
      }
    }
    ++it;
  }
  for (auto it = m.sessions.begin(); it != m.sessions.end();) {
    const Session& s = it->second;
    const bool expired = now - s.last_seen_us > static_cast<std::int64_t>(s.timeout_ms * 1000) && s.publish.empty();
    if (expired) {
      const std::uint64_t id = it->first;
      ++it;
      m.delete_session(id, false);  // its subscriptions live on until their lifetime ends
    } else {
      ++it;
    }
  }
}

}  // namespace uc::simulator::opcua
