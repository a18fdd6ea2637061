#include "clients/opcua/client.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "protocols/opcua/generated/node_ids.h"
#include "protocols/opcua/generated/status_codes.h"

namespace uc::clients::opcua {

namespace ids = uc::opcua::ids;

bool parse_endpoint(const std::string& url, std::string& host, std::string& port) {
  static constexpr std::string_view kScheme = "opc.tcp://";
  if (url.compare(0, kScheme.size(), kScheme) != 0) return false;
  std::string rest = url.substr(kScheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (authority.empty()) return false;
  auto colon = authority.rfind(':');
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    auto close = authority.find(']');
    if (close == std::string::npos) return false;
    host = authority.substr(1, close - 1);
    port = close + 1 < authority.size() && authority[close + 1] == ':' ? authority.substr(close + 2) : "4840";
  } else if (colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  } else {
    host = authority;
    port = "4840";
  }
  return !host.empty() && !port.empty();
}

std::string status_text(std::uint32_t code) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", code);
  return std::string(uc::opcua::status::name(code)) + " (" + buf + ")";
}

Client::Client(ClientOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock), splitter_(options_.transport.receive_buffer_size) {}

Client::~Client() { disconnect(); }

void Client::interrupt() {
  interrupted_ = true;
  waker_.wake();
}

void Client::cancel() {
  cancelled_ = true;
  waker_.wake();
}

// On the client's thread (Waker::reset's rule). An interrupt is permanent: it stays woken.
void Client::resume() {
  cancelled_ = false;
  waker_.reset();
  if (interrupted_) waker_.wake();
}

net::DeadlineUs Client::deadline_in_ms(int ms) const {
  return clock_.steady_us() + static_cast<std::int64_t>(ms) * 1000;
}

void Client::reset_connection_state() {
  conn_.close();
  channel_.reset();
  session_open_ = false;  // the session itself (authentication_token_) may be re-activated
  publishes_.clear();
  stash_.clear();
}

Status Client::fail_connection(Status s) {
  reset_connection_state();
  return s;
}

Status Client::connect() {
  disconnect();
  if (interrupted_) return Status(uc::StatusCode::kCancelled, "interrupted");
  if (!parse_endpoint(options_.endpoint_url, host_, port_)) {
    return invalid_argument("bad endpoint URL " + options_.endpoint_url);
  }
  auto conn = net::Connection::connect(host_, port_, deadline_in_ms(options_.timeout_ms), {}, &waker_);
  if (!conn.is_ok()) return conn.status();
  conn_ = std::move(*conn);

  splitter_ = ua::FrameSplitter(options_.transport.receive_buffer_size);
  ua::HelloMessage hello;
  hello.limits = options_.transport;
  hello.endpoint_url = options_.endpoint_url;
  std::string hel = ua::encode_hello(hello);
  if (Status s = conn_.send_all(hel, deadline_in_ms(options_.timeout_ms)); !s.is_ok()) {
    return fail_connection(unavailable("send Hello failed: " + s.message()));
  }
  std::string frame;
  if (auto s = read_frame(frame); !s.is_ok()) return fail_connection(s);
  if (ua::frame_type(frame) == "ERR") {
    auto err = ua::decode_error(frame);
    return fail_connection(unavailable("server refused Hello: " + (err ? status_text(err->error) + " " + err->reason
                                                                       : err.status().message())));
  }
  auto ack = ua::decode_acknowledge(frame);
  if (!ack) return fail_connection(ack.status());
  peer_limits_ = ack->limits;
  channel_ = std::make_unique<ua::SecureChannel>(std::make_unique<ua::NoneSecurity>(), options_.transport);
  channel_->set_peer_limits(ack->limits);
  return open_channel(ua::SecurityTokenRequestType::kIssue);
}

Status Client::open_channel(ua::SecurityTokenRequestType type) {
  ua::OpenSecureChannelRequest req;
  req.request_header = header();
  req.client_protocol_version = 0;
  req.request_type = type;
  req.security_mode = ua::MessageSecurityMode::kNone;
  req.client_nonce = ua::ByteString{std::string()};
  req.requested_lifetime = options_.requested_lifetime_ms;
  std::uint32_t request_id = next_request_id();
  if (auto s = send_chunks(ua::ChunkKind::kOpen, request_id, ua::encode_service(req)); !s.is_ok()) return s;
  auto body = receive_for(request_id, ua::ChunkKind::kOpen);
  if (!body) return body.status();
  if (ua::peek_service_type(*body) == ua::ServiceFault::kBinaryEncodingId) {
    ua::ServiceFault fault;
    (void)ua::decode_service(*body, fault, options_.decode_limits);
    return fail_connection(unavailable("OpenSecureChannel refused: " + status_text(fault.response_header.service_result.code)));
  }
  ua::OpenSecureChannelResponse resp;
  if (auto s = ua::decode_service(*body, resp, options_.decode_limits); !s.is_ok()) return fail_connection(s);
  if (resp.response_header.service_result.is_bad()) {
    return fail_connection(unavailable("OpenSecureChannel failed: " + status_text(resp.response_header.service_result.code)));
  }
  const auto& tok = resp.security_token;
  if (type == ua::SecurityTokenRequestType::kIssue) {
    channel_->set_channel(tok.channel_id, tok.token_id);
  } else {
    if (tok.channel_id != channel_->channel_id()) return fail_connection(Status(uc::StatusCode::kDataLoss, "renewal changed the channel id"));
    channel_->renew_token(tok.token_id);
    ++renewals_;
  }
  std::uint32_t lifetime = tok.revised_lifetime == 0 ? options_.requested_lifetime_ms : tok.revised_lifetime;
  token_renew_at_us_ = clock_.steady_us() + static_cast<std::int64_t>(lifetime) * 750;  // 75 % in us
  return Status::ok();
}

Status Client::renew_if_due() {
  if (!channel_ || !conn_.is_open()) return unavailable("not connected");
  if (clock_.steady_us() < token_renew_at_us_) return Status::ok();
  return open_channel(ua::SecurityTokenRequestType::kRenew);
}

void Client::disconnect() {
  if (conn_.is_open() && channel_ && !interrupted_) {
    ua::CloseSecureChannelRequest req;
    req.request_header = header();
    (void)send_chunks(ua::ChunkKind::kClose, next_request_id(), ua::encode_service(req));  // no response (Part 6 §7.1.4)
  }
  reset_connection_state();
}

std::uint32_t Client::next_request_id() {
  if (next_request_id_ == kAnyPublish) ++next_request_id_;
  return next_request_id_++;
}

ua::RequestHeader Client::header() {
  ua::RequestHeader h;
  h.authentication_token = authentication_token_;
  h.timestamp = ua::datetime_from_unix_us(clock_.now_us());
  h.request_handle = next_handle_++;
  h.timeout_hint = static_cast<std::uint32_t>(options_.timeout_ms);
  return h;
}

Status Client::send_chunks(ua::ChunkKind kind, std::uint32_t request_id, const std::string& body) {
  if (!conn_.is_open() || !channel_) return unavailable("not connected");
  auto chunks = channel_->encode(kind, request_id, body);
  if (!chunks) return chunks.status();
  // Not cancellable: a request half sent would break the stream that resume() keeps.
  for (const auto& c : *chunks) {
    if (Status s = conn_.send_all(c, deadline_in_ms(options_.timeout_ms)); !s.is_ok()) return fail_connection(s);
  }
  return Status::ok();
}

Status Client::read_frame(std::string& frame) {
  const int wait_ms = wait_ms_ > 0 ? wait_ms_ : options_.timeout_ms;
  const net::DeadlineUs deadline = deadline_in_ms(wait_ms);
  char buf[65536];
  for (;;) {
    auto f = splitter_.next();
    if (!f) return fail_connection(f.status());
    if (f->has_value()) {
      frame = std::move(**f);
      return Status::ok();
    }
    if (interrupted_) return fail_connection(Status(uc::StatusCode::kCancelled, "interrupted"));
    if (cancelled_) return Status(uc::StatusCode::kCancelled, "cancelled");
    const net::ReadResult r = conn_.read_some(std::span(buf), deadline, &waker_);
    switch (r.kind) {
      case net::ReadResult::Kind::kData:
        splitter_.feed(std::string_view(buf, r.size));
        break;
      case net::ReadResult::Kind::kCancelled:
        if (interrupted_) return fail_connection(Status(uc::StatusCode::kCancelled, "interrupted"));
        return Status(uc::StatusCode::kCancelled, "cancelled");
      case net::ReadResult::Kind::kTimedOut:
        return fail_connection(unavailable("no answer from the server within " + std::to_string(wait_ms) + " ms"));
      case net::ReadResult::Kind::kClosed:
        return fail_connection(unavailable("server closed the connection"));
      case net::ReadResult::Kind::kError:
        return fail_connection(r.status);
    }
  }
}

Result<std::string> Client::receive_for(std::uint32_t request_id, ua::ChunkKind kind) {
  for (;;) {
    std::string frame;
    if (auto s = read_frame(frame); !s.is_ok()) return s;
    auto type = ua::frame_type(frame);
    if (type == "ERR") {
      auto err = ua::decode_error(frame);
      return fail_connection(unavailable("server error: " + (err ? status_text(err->error) + " " + err->reason
                                                                 : err.status().message())));
    }
    if (type != "OPN" && type != "MSG" && type != "CLO") {
      return fail_connection(Status(uc::StatusCode::kDataLoss, "unexpected " + std::string(type) + " message"));
    }
    auto msg = channel_->receive(std::move(frame));
    if (!msg) return fail_connection(msg.status());
    if (!msg->has_value()) continue;
    ua::ReceivedMessage& m = **msg;
    const bool awaited_publish = m.kind == ua::ChunkKind::kMessage &&
                                 std::find(publishes_.begin(), publishes_.end(), m.request_id) != publishes_.end();
    if (m.abort) {
      if (m.request_id == request_id) {
        return Status(uc::StatusCode::kResourceExhausted, "server aborted the response: " + status_text(m.abort->error) +
                                                              " " + m.abort->reason);
      }
      if (awaited_publish) std::erase(publishes_, m.request_id);  // that Publish is over; the caller sends another
      continue;
    }
    if (m.request_id == request_id && m.kind == kind) return std::move(m.body);
    if (awaited_publish && request_id == kAnyPublish) {
      std::erase(publishes_, m.request_id);
      last_publish_id_ = m.request_id;
      return std::move(m.body);
    }
    if (awaited_publish) stash_[m.request_id] = std::move(m.body);
    // anything else is a late answer to an abandoned request
  }
}

Status Client::roundtrip(std::uint32_t request_id, const std::string& body, std::string& response) {
  if (auto s = send_chunks(ua::ChunkKind::kMessage, request_id, body); !s.is_ok()) return s;
  auto r = receive_for(request_id, ua::ChunkKind::kMessage);
  if (!r) return r.status();
  response = std::move(*r);
  return Status::ok();
}

Result<std::vector<ua::EndpointDescription>> Client::get_endpoints() {
  ua::GetEndpointsRequest req;
  req.endpoint_url = options_.endpoint_url;
  ua::GetEndpointsResponse resp;
  if (auto s = call(req, resp); !s.is_ok()) return s;
  return std::move(resp.endpoints);
}

Result<std::vector<ua::ApplicationDescription>> Client::find_servers() {
  ua::FindServersRequest req;
  req.endpoint_url = options_.endpoint_url;
  ua::FindServersResponse resp;
  if (auto s = call(req, resp); !s.is_ok()) return s;
  return std::move(resp.servers);
}

Status Client::create_session() {
  ua::CreateSessionRequest cs;
  cs.client_description.application_uri = options_.application_uri;
  cs.client_description.product_uri = std::string("urn:unified-connector");
  cs.client_description.application_name = ua::LocalizedText{std::string("en"), std::string("unified-connector")};
  cs.client_description.application_type = ua::ApplicationType::kClient;
  cs.endpoint_url = options_.endpoint_url;
  cs.session_name = options_.session_name;
  std::string nonce(32, '\0');
  std::random_device rd;
  for (auto& c : nonce) c = static_cast<char>(rd() & 0xFF);
  cs.client_nonce = ua::ByteString{nonce};
  cs.requested_session_timeout = options_.session_timeout_ms;
  cs.max_response_message_size = options_.transport.max_message_size;
  ua::CreateSessionResponse created;
  if (auto s = call(cs, created); !s.is_ok()) return s;
  authentication_token_ = created.authentication_token;
  session_info_ = std::move(created);
  return Status::ok();
}

Status Client::activate_session() {
  auto identity = user_identity_token(options_, session_info_);
  if (!identity) return identity.status();
  ua::ActivateSessionRequest as;
  as.locale_ids = {std::string("en")};
  as.user_identity_token = std::move(*identity);
  ua::ActivateSessionResponse activated;
  if (auto s = call(as, activated); !s.is_ok()) {
    return Status(s.code(), "ActivateSession (" +
                                (options_.username.empty() ? std::string("anonymous") : "user " + options_.username) +
                                "): " + s.message());
  }
  session_info_.server_nonce = activated.server_nonce;  // the next ActivateSession uses the latest one
  session_open_ = true;
  return Status::ok();
}

Status Client::open_session() {
  forget_session();
  if (auto s = create_session(); !s.is_ok()) return s;
  if (auto s = activate_session(); !s.is_ok()) return s;
  return read_server_info();
}

Status Client::reactivate_session() {
  if (!has_session()) return Status(uc::StatusCode::kFailedPrecondition, "no session to re-activate");
  Status s = activate_session();
  if (s.is_ok()) s = read_server_info();
  if (!s.is_ok()) forget_session();
  return s;
}

Status Client::read_server_info() {
  // OperationLimits and the namespace array; a server without them gets no limits.
  std::vector<ua::ReadValueId> nodes;
  for (std::uint32_t id : {ids::kServer_ServerCapabilities_OperationLimits_MaxNodesPerRead,
                           ids::kServer_ServerCapabilities_OperationLimits_MaxNodesPerBrowse,
                           ids::kServer_NamespaceArray,
                           ids::kServer_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall,
                           ids::kServer_ServerCapabilities_OperationLimits_MaxNodesPerTranslateBrowsePathsToNodeIds}) {
    nodes.push_back(ua::ReadValueId{ua::NodeId(id), 13, std::nullopt, ua::QualifiedName{}});
  }
  ua::ReadRequest rr;
  rr.timestamps_to_return = ua::TimestampsToReturn::kNeither;
  rr.nodes_to_read = nodes;
  ua::ReadResponse limits;
  if (auto s = call(rr, limits); !s.is_ok()) return s;
  auto u32 = [](const ua::DataValue& v) -> std::uint32_t {
    if (!v.value || v.value->is_array || v.value->values.empty()) return 0;
    if (const auto* x = std::get_if<std::uint32_t>(&v.value->values.front())) return *x;
    return 0;
  };
  if (limits.results.size() == 5) {
    op_limits_.max_nodes_per_read = u32(limits.results[0]);
    op_limits_.max_nodes_per_browse = u32(limits.results[1]);
    op_limits_.max_monitored_items_per_call = u32(limits.results[3]);
    op_limits_.max_nodes_per_translate = u32(limits.results[4]);
    namespaces_.clear();
    if (limits.results[2].value) {
      for (const auto& s : limits.results[2].value->values) {
        if (const auto* str = std::get_if<ua::String>(&s)) namespaces_.push_back(str->value_or(""));
      }
    }
  }
  return Status::ok();
}

Status Client::close_session() {
  if (!session_open_ || !conn_.is_open()) return Status::ok();
  ua::CloseSessionRequest req;
  req.delete_subscriptions = true;
  ua::CloseSessionResponse resp;
  Status s = call(req, resp);
  forget_session();
  return s;
}

Result<std::vector<ua::DataValue>> Client::read(const std::vector<ua::ReadValueId>& nodes,
                                                ua::TimestampsToReturn timestamps) {
  std::vector<ua::DataValue> out;
  out.reserve(nodes.size());
  std::size_t step = op_limits_.max_nodes_per_read == 0 ? nodes.size() : op_limits_.max_nodes_per_read;
  for (std::size_t i = 0; i < nodes.size(); i += step) {
    ua::ReadRequest req;
    req.timestamps_to_return = timestamps;
    req.nodes_to_read.assign(nodes.begin() + static_cast<std::ptrdiff_t>(i),
                             nodes.begin() + static_cast<std::ptrdiff_t>(std::min(nodes.size(), i + step)));
    ua::ReadResponse resp;
    if (auto s = call(req, resp); !s.is_ok()) return s;
    if (resp.results.size() != req.nodes_to_read.size()) {
      return fail_connection(Status(uc::StatusCode::kDataLoss, "Read returned " + std::to_string(resp.results.size()) +
                                                                    " results for " +
                                                                    std::to_string(req.nodes_to_read.size()) + " nodes"));
    }
    for (auto& r : resp.results) out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<ua::ReferenceDescription>> Client::browse_all(const ua::NodeId& node, ua::BrowseDirection direction,
                                                                 std::uint32_t max_references_per_call) {
  ua::BrowseRequest req;
  req.requested_max_references_per_node = max_references_per_call;
  ua::BrowseDescription d;
  d.node_id = node;
  d.browse_direction = direction;
  d.reference_type_id = ua::NodeId(ids::kHierarchicalReferences);
  d.include_subtypes = true;
  d.node_class_mask = 0;
  d.result_mask = 63;
  req.nodes_to_browse.push_back(d);
  ua::BrowseResponse resp;
  if (auto s = call(req, resp); !s.is_ok()) return s;
  if (resp.results.size() != 1) return fail_connection(Status(uc::StatusCode::kDataLoss, "Browse returned no result"));
  std::vector<ua::ReferenceDescription> out;
  ua::BrowseResult result = std::move(resp.results.front());
  for (int rounds = 0;; ++rounds) {
    if (result.status_code.is_bad()) {
      return Status(uc::StatusCode::kFailedPrecondition, "browse " + ua::to_string(node) + ": " +
                                                             status_text(result.status_code.code));
    }
    for (auto& r : result.references) out.push_back(std::move(r));
    const auto& cp = result.continuation_point.data;
    if (!cp || cp->empty()) break;
    if (out.size() > static_cast<std::size_t>(options_.decode_limits.max_array_length)) {
      return Status(uc::StatusCode::kResourceExhausted, "browse " + ua::to_string(node) + ": too many references");
    }
    ua::BrowseNextRequest next;
    next.release_continuation_points = false;
    next.continuation_points.push_back(result.continuation_point);
    ua::BrowseNextResponse nresp;
    if (auto s = call(next, nresp); !s.is_ok()) return s;
    if (nresp.results.size() != 1) return fail_connection(Status(uc::StatusCode::kDataLoss, "BrowseNext returned no result"));
    result = std::move(nresp.results.front());
  }
  return out;
}

Result<std::vector<ua::BrowsePathResult>> Client::translate(const std::vector<ua::BrowsePath>& paths) {
  std::vector<ua::BrowsePathResult> out;
  out.reserve(paths.size());
  const std::size_t step = op_limits_.max_nodes_per_translate == 0 ? paths.size() : op_limits_.max_nodes_per_translate;
  for (std::size_t i = 0; i < paths.size(); i += step) {
    ua::TranslateBrowsePathsToNodeIdsRequest req;
    req.browse_paths.assign(paths.begin() + static_cast<std::ptrdiff_t>(i),
                            paths.begin() + static_cast<std::ptrdiff_t>(std::min(paths.size(), i + step)));
    ua::TranslateBrowsePathsToNodeIdsResponse resp;
    if (auto s = call(req, resp); !s.is_ok()) return s;
    if (resp.results.size() != req.browse_paths.size()) {
      return fail_connection(Status(uc::StatusCode::kDataLoss, "TranslateBrowsePathsToNodeIds returned " +
                                                                    std::to_string(resp.results.size()) + " results for " +
                                                                    std::to_string(req.browse_paths.size()) + " paths"));
    }
    for (auto& r : resp.results) out.push_back(std::move(r));
  }
  return out;
}

Status Client::browse_many(const std::vector<ua::NodeId>& nodes,
                           const std::function<bool(std::size_t, BrowsedNode&&)>& on_node,
                           ua::BrowseDirection direction, std::uint32_t max_references_per_call) {
  const std::size_t step = op_limits_.max_nodes_per_browse == 0 ? std::max<std::size_t>(nodes.size(), 1)
                                                                : op_limits_.max_nodes_per_browse;
  const std::size_t max_refs = static_cast<std::size_t>(options_.decode_limits.max_array_length);
  for (std::size_t base = 0; base < nodes.size(); base += step) {
    const std::size_t count = std::min(nodes.size() - base, step);
    std::vector<BrowsedNode> results(count);
    std::vector<bool> done(count, false);
    std::vector<ua::ByteString> points(count);  // the continuation point each unfinished node holds
    std::size_t delivered = 0;                   // results[0, delivered) were handed to on_node

    // Releases every point still held (one BrowseNext with release set: at most `count`
    // points, within the limit); best effort, its answer is not needed.
    auto release = [&]() {
      ua::BrowseNextRequest next;
      next.release_continuation_points = true;
      for (std::size_t k = 0; k < count; ++k) {
        if (!done[k]) next.continuation_points.push_back(points[k]);
      }
      if (next.continuation_points.empty()) return;
      ua::BrowseNextResponse ignored;
      (void)call(next, ignored);
    };
    // Takes one BrowseResult for node k; true when the node is complete.
    auto take = [&](std::size_t k, ua::BrowseResult&& r) {
      BrowsedNode& n = results[k];
      if (r.status_code.is_bad()) {
        n.status = r.status_code;
        return true;
      }
      for (auto& ref : r.references) n.refs.push_back(std::move(ref));
      const auto& cp = r.continuation_point.data;
      if (!cp || cp->empty()) return true;
      if (n.refs.size() > max_refs) {
        n.status = ua::StatusCode{uc::opcua::status::kBadTooManyOperations};
        points[k] = std::move(r.continuation_point);
        return false;  // released below with the others
      }
      points[k] = std::move(r.continuation_point);
      return false;
    };
    // Hands complete nodes to on_node in order; false when it asked to stop.
    auto deliver = [&]() {
      while (delivered < count && done[delivered]) {
        if (!on_node(base + delivered, std::move(results[delivered]))) {
          ++delivered;
          return false;
        }
        ++delivered;
      }
      return true;
    };

    ua::BrowseRequest req;
    req.requested_max_references_per_node = max_references_per_call;
    for (std::size_t k = 0; k < count; ++k) {
      ua::BrowseDescription d;
      d.node_id = nodes[base + k];
      d.browse_direction = direction;
      d.reference_type_id = ua::NodeId(ids::kHierarchicalReferences);
      d.include_subtypes = true;
      d.node_class_mask = 0;
      d.result_mask = 63;
      req.nodes_to_browse.push_back(std::move(d));
    }
    ua::BrowseResponse resp;
    if (auto s = call(req, resp); !s.is_ok()) return s;
    if (resp.results.size() != count) {
      return fail_connection(Status(uc::StatusCode::kDataLoss, "Browse returned " + std::to_string(resp.results.size()) +
                                                                    " results for " + std::to_string(count) + " nodes"));
    }
    for (std::size_t k = 0; k < count; ++k) done[k] = take(k, std::move(resp.results[k]));
    for (;;) {
      // A node over the reference limit stops everything.
      for (std::size_t k = 0; k < count; ++k) {
        if (!done[k] && results[k].status.is_bad()) {
          release();
          return Status(uc::StatusCode::kResourceExhausted,
                        "browse " + ua::to_string(nodes[base + k]) + ": more than " + std::to_string(max_refs) + " references");
        }
      }
      if (!deliver()) {
        release();
        return Status::ok();
      }
      std::vector<std::size_t> pending;
      for (std::size_t k = 0; k < count; ++k) {
        if (!done[k]) pending.push_back(k);
      }
      if (pending.empty()) break;
      ua::BrowseNextRequest next;
      next.release_continuation_points = false;
      for (std::size_t k : pending) next.continuation_points.push_back(points[k]);
      ua::BrowseNextResponse nresp;
      if (auto s = call(next, nresp); !s.is_ok()) return s;
      if (nresp.results.size() != pending.size()) {
        return fail_connection(Status(uc::StatusCode::kDataLoss, "BrowseNext returned " +
                                                                      std::to_string(nresp.results.size()) + " results for " +
                                                                      std::to_string(pending.size()) + " points"));
      }
      for (std::size_t j = 0; j < pending.size(); ++j) {
        done[pending[j]] = take(pending[j], std::move(nresp.results[j]));
      }
    }
  }
  return Status::ok();
}

Result<ua::CreateSubscriptionResponse> Client::create_subscription(double publishing_interval_ms,
                                                                   std::uint32_t lifetime_count,
                                                                   std::uint32_t max_keep_alive_count) {
  ua::CreateSubscriptionRequest req;
  req.requested_publishing_interval = publishing_interval_ms;
  req.requested_lifetime_count = lifetime_count;
  req.requested_max_keep_alive_count = max_keep_alive_count;
  req.max_notifications_per_publish = 0;
  req.publishing_enabled = true;
  req.priority = 0;
  ua::CreateSubscriptionResponse resp;
  if (auto s = call(req, resp); !s.is_ok()) return s;
  return resp;
}

Result<std::vector<ua::MonitoredItemCreateResult>> Client::create_monitored_items(
    std::uint32_t subscription_id, const std::vector<ua::MonitoredItemCreateRequest>& items) {
  std::vector<ua::MonitoredItemCreateResult> out;
  out.reserve(items.size());
  std::size_t step = op_limits_.max_monitored_items_per_call == 0 ? items.size() : op_limits_.max_monitored_items_per_call;
  for (std::size_t i = 0; i < items.size(); i += step) {
    ua::CreateMonitoredItemsRequest req;
    req.subscription_id = subscription_id;
    req.timestamps_to_return = ua::TimestampsToReturn::kBoth;
    req.items_to_create.assign(items.begin() + static_cast<std::ptrdiff_t>(i),
                               items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), i + step)));
    ua::CreateMonitoredItemsResponse resp;
    if (auto s = call(req, resp); !s.is_ok()) return s;
    if (resp.results.size() != req.items_to_create.size()) {
      return fail_connection(Status(uc::StatusCode::kDataLoss, "CreateMonitoredItems returned " +
                                                                    std::to_string(resp.results.size()) + " results for " +
                                                                    std::to_string(req.items_to_create.size()) + " items"));
    }
    for (auto& r : resp.results) out.push_back(std::move(r));
  }
  return out;
}

Result<std::uint32_t> Client::send_publish(const std::vector<ua::SubscriptionAcknowledgement>& acks,
                                           std::uint32_t timeout_hint_ms) {
  if (auto s = renew_if_due(); !s.is_ok()) return s;
  ua::PublishRequest req;
  req.request_header = header();
  req.request_header.timeout_hint = timeout_hint_ms;
  req.subscription_acknowledgements = acks;
  const std::uint32_t request_id = next_request_id();
  if (auto s = send_chunks(ua::ChunkKind::kMessage, request_id, ua::encode_service(req)); !s.is_ok()) return s;
  publishes_.push_back(request_id);
  return request_id;
}

Result<ua::PublishResponse> Client::wait_publish(int wait_ms) {
  if (publishes_.empty()) return Status(uc::StatusCode::kFailedPrecondition, "no Publish request outstanding");
  std::string body;
  for (auto it = publishes_.begin(); it != publishes_.end(); ++it) {  // oldest first
    auto ready = stash_.find(*it);
    if (ready == stash_.end()) continue;
    last_publish_id_ = *it;
    body = std::move(ready->second);
    stash_.erase(ready);
    publishes_.erase(it);
    break;
  }
  if (body.empty()) {
    wait_ms_ = wait_ms;
    auto r = receive_for(kAnyPublish, ua::ChunkKind::kMessage);
    wait_ms_ = 0;
    if (!r) return r.status();
    body = std::move(*r);
  }
  ua::PublishResponse resp;
  if (auto s = decode_response(body, resp); !s.is_ok()) return s;
  return resp;
}

Result<ua::PublishResponse> Client::publish(const std::vector<ua::SubscriptionAcknowledgement>& acks, int wait_ms) {
  if (auto id = send_publish(acks, static_cast<std::uint32_t>(wait_ms)); !id) return id.status();
  return wait_publish(wait_ms);
}

Result<ua::NotificationMessage> Client::republish(std::uint32_t subscription_id, std::uint32_t sequence_number) {
  ua::RepublishRequest req;
  req.subscription_id = subscription_id;
  req.retransmit_sequence_number = sequence_number;
  ua::RepublishResponse resp;
  if (auto s = call(req, resp); !s.is_ok()) return s;
  return std::move(resp.notification_message);
}

Result<std::vector<ua::TransferResult>> Client::transfer_subscriptions(const std::vector<std::uint32_t>& ids,
                                                                       bool send_initial_values) {
  ua::TransferSubscriptionsRequest req;
  req.subscription_ids = ids;
  req.send_initial_values = send_initial_values;
  ua::TransferSubscriptionsResponse resp;
  if (auto s = call(req, resp); !s.is_ok()) return s;
  if (resp.results.size() != ids.size()) {
    return fail_connection(Status(uc::StatusCode::kDataLoss, "TransferSubscriptions returned " +
                                                                  std::to_string(resp.results.size()) + " results for " +
                                                                  std::to_string(ids.size()) + " subscriptions"));
  }
  return std::move(resp.results);
}

Status Client::delete_subscriptions(const std::vector<std::uint32_t>& ids) {
  ua::DeleteSubscriptionsRequest req;
  req.subscription_ids = ids;
  ua::DeleteSubscriptionsResponse resp;
  if (auto s = call(req, resp); !s.is_ok()) return s;
  for (std::size_t i = 0; i < resp.results.size() && i < ids.size(); ++i) {
    if (resp.results[i].is_bad()) {
      return Status(uc::StatusCode::kFailedPrecondition,
                    "DeleteSubscriptions " + std::to_string(ids[i]) + ": " + status_text(resp.results[i].code));
    }
  }
  return Status::ok();
}

namespace {

constexpr std::string_view kPolicyPrefix = "http://opcfoundation.org/UA/SecurityPolicy#";
constexpr std::string_view kRsaOaep = "http://www.w3.org/2001/04/xmlenc#rsa-oaep";

std::string openssl_error(const std::string& what) {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return what;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return what + ": " + buf;
}

const char* token_type_name(ua::UserTokenType t) {
  switch (t) {
    case ua::UserTokenType::kAnonymous: return "Anonymous";
    case ua::UserTokenType::kUserName: return "UserName";
    case ua::UserTokenType::kCertificate: return "Certificate";
    case ua::UserTokenType::kIssuedToken: return "IssuedToken";
  }
  return "unknown";
}

}  // namespace

Result<std::string> encrypt_user_secret(std::string_view password, std::string_view server_nonce,
                                        std::string_view server_certificate) {
  if (server_certificate.empty()) {
    return invalid_argument("the server sent no certificate to encrypt the password with");
  }
  if (server_certificate.size() > 64 * 1024 || password.size() > 64 * 1024 || server_nonce.size() > 1024) {
    return invalid_argument("password, server nonce or server certificate too long");
  }
  // d2i_X509 reads the first DER object: a chain (certificates concatenated) gives the first.
  const auto* p = reinterpret_cast<const unsigned char*>(server_certificate.data());
  std::unique_ptr<X509, decltype(&X509_free)> cert(d2i_X509(nullptr, &p, static_cast<long>(server_certificate.size())),
                                                   &X509_free);
  if (!cert) return invalid_argument(openssl_error("the server certificate is not a valid DER X.509 certificate"));
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(X509_get_pubkey(cert.get()), &EVP_PKEY_free);
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    ERR_clear_error();
    return invalid_argument("the server certificate has no RSA public key");
  }
  const int key_bytes = EVP_PKEY_get_size(key.get());
  if (key_bytes <= 42) return invalid_argument("the server's RSA key is too small");
  const std::size_t block = static_cast<std::size_t>(key_bytes) - 42;  // OAEP with SHA-1

  std::string plain;
  const auto len = static_cast<std::uint32_t>(password.size() + server_nonce.size());
  for (int i = 0; i < 4; ++i) plain.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
  plain.append(password);
  plain.append(server_nonce);

  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(key.get(), nullptr),
                                                                  &EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) <= 0 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha1()) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha1()) <= 0) {
    return internal_error(openssl_error("RSA-OAEP setup failed"));
  }
  std::string out;
  for (std::size_t off = 0; off < plain.size(); off += block) {
    const std::size_t n = std::min(block, plain.size() - off);
    std::size_t out_len = static_cast<std::size_t>(key_bytes);
    std::string chunk(out_len, '\0');
    if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(chunk.data()), &out_len,
                         reinterpret_cast<const unsigned char*>(plain.data() + off), n) <= 0) {
      OPENSSL_cleanse(plain.data(), plain.size());
      return internal_error(openssl_error("RSA-OAEP encryption failed"));
    }
    chunk.resize(out_len);
    out += chunk;
  }
  OPENSSL_cleanse(plain.data(), plain.size());
  return out;
}

Result<ua::ExtensionObject> user_identity_token(const ClientOptions& options, const ua::CreateSessionResponse& created) {
  const bool anonymous = options.username.empty();
  const ua::UserTokenType wanted = anonymous ? ua::UserTokenType::kAnonymous : ua::UserTokenType::kUserName;
  const ua::UserTokenPolicy* policy = nullptr;
  const ua::EndpointDescription* endpoint = nullptr;
  std::set<std::string> offered;
  bool any_none_endpoint = false;
  for (const auto& ep : created.server_endpoints) {
    if (ep.security_mode != ua::MessageSecurityMode::kNone) continue;
    any_none_endpoint = true;
    for (const auto& p : ep.user_identity_tokens) {
      offered.insert(token_type_name(p.token_type));
      if (policy == nullptr && p.token_type == wanted) {
        policy = &p;
        endpoint = &ep;
      }
    }
  }
  if (anonymous) {
    ua::AnonymousIdentityToken anon;
    if (policy != nullptr) {
      anon.policy_id = policy->policy_id;
    } else if (!any_none_endpoint || offered.empty()) {
      anon.policy_id = std::string("anonymous");  // the server lists nothing: try the usual id
    } else {
      std::string list;
      for (const auto& o : offered) list += (list.empty() ? "" : ", ") + o;
      return Status(uc::StatusCode::kPermissionDenied,
                    "the server offers no anonymous login (user token types: " + list +
                        "); set security.username and security.password");
    }
    return ua::make_extension(anon);
  }
  if (policy == nullptr) {
    std::string list;
    for (const auto& o : offered) list += (list.empty() ? "" : ", ") + o;
    return Status(uc::StatusCode::kPermissionDenied, "the server offers no UserName login on a security None endpoint" +
                                                         (list.empty() ? std::string() : " (user token types: " + list + ")"));
  }
  ua::UserNameIdentityToken token;
  token.policy_id = policy->policy_id;
  token.user_name = options.username;
  std::string effective = policy->security_policy_uri.value_or("");
  if (effective.empty()) effective = endpoint->security_policy_uri.value_or("");
  if (effective.empty() || effective == ua::kSecurityPolicyNone) {
    token.password = ua::ByteString{options.password};
    return ua::make_extension(token);
  }
  const std::string name = effective.rfind(kPolicyPrefix, 0) == 0 ? effective.substr(kPolicyPrefix.size()) : effective;
  if (name != "Basic256Sha256" && name != "Basic256" && name != "Aes128_Sha256_RsaOaep") {
    return Status(uc::StatusCode::kUnimplemented, "the server wants the password encrypted with security policy " +
                                                      effective + ", which this build does not support");
  }
  const std::string nonce = created.server_nonce.data.value_or("");
  auto secret = encrypt_user_secret(options.password, nonce, created.server_certificate.data.value_or(""));
  if (!secret) return Status(secret.status().code(), "cannot encrypt the password: " + secret.status().message());
  token.password = ua::ByteString{std::move(*secret)};
  token.encryption_algorithm = std::string(kRsaOaep);
  return ua::make_extension(token);
}

}  // namespace uc::clients::opcua
