// A blocking OPC UA client over one TCP connection: the I/O adapter around the sans-IO
// codec and secure channel of protocols/opcua.
//
// - One thread uses a Client at a time; every call blocks until the response arrives,
//   the timeout passes or interrupt() is called (safe from another thread, like
//   cancel(): it wakes the blocked call, which returns kCancelled and drops the
//   connection; it is permanent, later calls fail too). The socket is a net::Connection;
//   its waits are cancelled through a net::Waker.
// - Publish requests are the exception: send_publish() only sends, and several may be
//   outstanding. Their responses are kept (the "stash") when they arrive during another
//   call and handed out by wait_publish(), oldest request first when several are ready.
// - The session outlives the connection: after a lost connection, connect() then
//   reactivate_session() resumes it on the new secure channel (its subscriptions with
//   it); open_session() creates a new one. close_session() ends it.
// - Errors are values: kUnavailable for connection problems and timeouts (retryable),
//   kDataLoss for malformed or hostile input (the connection is closed), and the
//   OPC UA status name in the message for ServiceFaults and bad service results.
// - Security is None (the seam is ChannelSecurity in protocols/opcua/transport.h).
// - The secure channel token is renewed at 75 % of its revised lifetime, checked before
//   each request.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string_view>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "net/connection.h"
#include "net/waker.h"
#include "protocols/opcua/generated/types.h"
#include "protocols/opcua/transport.h"

namespace uc::clients::opcua {

namespace ua = uc::opcua;

struct ClientOptions {
  std::string endpoint_url;  // opc.tcp://host:port[/path]
  int timeout_ms = 10000;    // per request and for connecting
  ua::TransportLimits transport;
  ua::Limits decode_limits;
  std::uint32_t requested_lifetime_ms = 600'000;
  double session_timeout_ms = 60'000;
  std::string application_uri = "urn:unified-connector:opcua-client";
  std::string session_name = "unified-connector";
  // UserName identity (empty user name: anonymous). See user_identity_token().
  std::string username;
  std::string password;
};

struct OperationLimits {
  std::uint32_t max_nodes_per_read = 0;    // 0 = no limit
  std::uint32_t max_nodes_per_browse = 0;
  std::uint32_t max_monitored_items_per_call = 0;
  std::uint32_t max_nodes_per_translate = 0;  // MaxNodesPerTranslateBrowsePathsToNodeIds
};

// The result of browsing one node with Client::browse_many.
struct BrowsedNode {
  ua::StatusCode status;  // bad: the node could not be browsed (refs holds what came before)
  std::vector<ua::ReferenceDescription> refs;
};

// The legacy encrypted secret of a UserNameIdentityToken (OPC UA Part 4 §7.41.2.2):
// UInt32LE(len(password) + len(server_nonce)) || password || server_nonce, RSA-OAEP
// (SHA-1, MGF1-SHA-1) encrypted with the public key of `server_certificate` (DER; when the
// server sends a chain, the first certificate is used) in blocks of key bytes - 42.
Result<std::string> encrypt_user_secret(std::string_view password, std::string_view server_nonce,
                                        std::string_view server_certificate);

// The ActivateSession identity token for `options` (anonymous when username is empty)
// from the server's endpoints in `created`:
// - the PolicyId is the one of the Anonymous / UserName token policy of an endpoint
//   with security None (the channel's); none offered: an error naming what is offered;
// - for UserName, the effective policy is the token policy's SecurityPolicyUri if not
//   empty, else the endpoint's: None sends the plain password; Basic256, Basic256Sha256
//   and Aes128_Sha256_RsaOaep send encrypt_user_secret() with EncryptionAlgorithm
//   http://www.w3.org/2001/04/xmlenc#rsa-oaep; other policies are refused.
Result<ua::ExtensionObject> user_identity_token(const ClientOptions& options, const ua::CreateSessionResponse& created);

class Client {
 public:
  explicit Client(ClientOptions options, const Clock& clock = SystemClock::instance());
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // TCP connect, Hello/Acknowledge, OpenSecureChannel (Issue, security None).
  Status connect();
  // CloseSecureChannel (when open) and close the socket. Safe to call twice.
  void disconnect();
  bool connected() const { return conn_.is_open(); }
  void interrupt();
  // Soft stop, safe from another thread: a blocked call returns kCancelled at once (a
  // request being sent is sent whole first) and the connection stays usable once
  // resume() is called, on the client's thread (to close the session).
  void cancel();
  void resume();
  void set_timeout_ms(int ms) { options_.timeout_ms = ms; }

  Result<std::vector<ua::EndpointDescription>> get_endpoints();
  Result<std::vector<ua::ApplicationDescription>> find_servers();
  // CreateSession + ActivateSession with the identity of user_identity_token(), then
  // reads the OperationLimits this client honours and the NamespaceArray.
  Status open_session();
  // ActivateSession of the session this client had on an earlier connection, on the
  // current secure channel, then the limits and namespaces again. On failure the old
  // session is forgotten (a ServiceFault keeps the connection: open_session() may follow).
  Status reactivate_session();
  // True while the client holds a session, active or waiting to be re-activated.
  bool has_session() const { return !authentication_token_.is_null(); }
  void forget_session() { authentication_token_ = ua::NodeId(); session_open_ = false; }
  // CloseSession (deleting its subscriptions) and forget it.
  Status close_session();

  // Reads, split to honour MaxNodesPerRead; results in request order.
  Result<std::vector<ua::DataValue>> read(const std::vector<ua::ReadValueId>& nodes,
                                          ua::TimestampsToReturn timestamps = ua::TimestampsToReturn::kBoth);
  // Every reference of `node` (Browse, then BrowseNext until no continuation point).
  Result<std::vector<ua::ReferenceDescription>> browse_all(const ua::NodeId& node,
                                                           ua::BrowseDirection direction = ua::BrowseDirection::kForward,
                                                           std::uint32_t max_references_per_call = 0);
  // Browses many nodes per Browse request (split to honour MaxNodesPerBrowse), following
  // every continuation point with BrowseNext (all of a request's points in one call).
  // on_node(i, result) is called in the order of `nodes` once node i is complete; when it
  // returns false the browse stops and the continuation points still held are released.
  Status browse_many(const std::vector<ua::NodeId>& nodes, const std::function<bool(std::size_t, BrowsedNode&&)>& on_node,
                     ua::BrowseDirection direction = ua::BrowseDirection::kForward,
                     std::uint32_t max_references_per_call = 0);
  // TranslateBrowsePathsToNodeIds, split to honour MaxNodesPerTranslateBrowsePathsToNodeIds;
  // results in request order.
  Result<std::vector<ua::BrowsePathResult>> translate(const std::vector<ua::BrowsePath>& paths);

  // Subscriptions. CreateMonitoredItems is split to honour MaxMonitoredItemsPerCall;
  // results in request order. publish() waits up to wait_ms for the server's answer
  // (a notification or a keep-alive), so it doubles as the keep-alive watchdog.
  Result<ua::CreateSubscriptionResponse> create_subscription(double publishing_interval_ms,
                                                             std::uint32_t lifetime_count,
                                                             std::uint32_t max_keep_alive_count);
  Result<std::vector<ua::MonitoredItemCreateResult>> create_monitored_items(
      std::uint32_t subscription_id, const std::vector<ua::MonitoredItemCreateRequest>& items);
  // Sends a PublishRequest carrying `acks` without waiting; timeout_hint_ms tells the
  // server how long it may park the request. Returns the request id.
  Result<std::uint32_t> send_publish(const std::vector<ua::SubscriptionAcknowledgement>& acks, std::uint32_t timeout_hint_ms);
  std::size_t outstanding_publishes() const { return publishes_.size(); }
  // Request ids grow: a Publish answered with an id below a mark was sent before it.
  std::uint32_t last_publish_request_id() const { return last_publish_id_; }
  std::uint32_t request_id_mark() const { return next_request_id_; }
  // The response to one outstanding Publish (a notification or a keep-alive), waiting up
  // to wait_ms: the keep-alive watchdog. A ServiceFault (BadTimeout, BadTooManyPublishRequests,
  // BadNoSubscription, ...) is kFailedPrecondition with the code in last_service_result().
  Result<ua::PublishResponse> wait_publish(int wait_ms);
  // send_publish + wait_publish with nothing else outstanding.
  Result<ua::PublishResponse> publish(const std::vector<ua::SubscriptionAcknowledgement>& acks, int wait_ms);
  Result<ua::NotificationMessage> republish(std::uint32_t subscription_id, std::uint32_t sequence_number);
  Result<std::vector<ua::TransferResult>> transfer_subscriptions(const std::vector<std::uint32_t>& ids,
                                                                 bool send_initial_values);
  Status delete_subscriptions(const std::vector<std::uint32_t>& ids);
  // The status of the last ServiceFault or bad service result (0 after a good answer).
  std::uint32_t last_service_result() const { return last_service_result_; }

  // Any service: fills the request header, sends, waits for the response.
  template <typename Req, typename Resp>
  Status call(Req& request, Resp& response);

  const OperationLimits& operation_limits() const { return op_limits_; }
  const std::vector<std::string>& namespace_array() const { return namespaces_; }
  const ua::TransportLimits& peer_limits() const { return peer_limits_; }
  std::uint32_t secure_channel_id() const { return channel_ ? channel_->channel_id() : 0; }
  std::uint32_t token_id() const { return channel_ ? channel_->token_id() : 0; }
  std::uint64_t token_renewals() const { return renewals_; }

 private:
  Status send_chunks(ua::ChunkKind kind, std::uint32_t request_id, const std::string& body);
  // Reads frames until the message for `request_id` is complete; answers to outstanding
  // Publish requests that arrive meanwhile go to the stash, others are dropped.
  // kAnyPublish takes the first answer to any outstanding Publish.
  static constexpr std::uint32_t kAnyPublish = 0;  // never a request id (they skip 0)
  Result<std::string> receive_for(std::uint32_t request_id, ua::ChunkKind kind);
  std::uint32_t next_request_id();
  Status create_session();
  Status activate_session();
  Status read_server_info();
  template <typename Resp>
  Status decode_response(const std::string& body, Resp& response);
  void reset_connection_state();
  Status read_frame(std::string& frame);
  Status open_channel(ua::SecurityTokenRequestType type);
  Status renew_if_due();
  Status roundtrip(std::uint32_t request_id, const std::string& body, std::string& response);
  Status fail_connection(Status s);
  net::DeadlineUs deadline_in_ms(int ms) const;  // on clock_
  ua::RequestHeader header();

  ClientOptions options_;
  int wait_ms_ = 0;  // read_frame's deadline for the current call (options_.timeout_ms by default)
  const Clock& clock_;
  std::string host_, port_;
  net::Connection conn_;
  net::Waker waker_;  // woken by cancel() and interrupt(), from other threads
  std::atomic<bool> interrupted_{false};
  std::atomic<bool> cancelled_{false};
  ua::FrameSplitter splitter_;
  std::unique_ptr<ua::SecureChannel> channel_;
  ua::TransportLimits peer_limits_;
  std::uint32_t next_request_id_ = 1;
  std::uint32_t next_handle_ = 1;
  std::int64_t token_renew_at_us_ = 0;
  std::uint64_t renewals_ = 0;
  ua::NodeId authentication_token_;
  bool session_open_ = false;
  OperationLimits op_limits_;
  std::vector<std::string> namespaces_;
  ua::CreateSessionResponse session_info_;  // endpoints, certificate; server_nonce of the latest Activate
  std::deque<std::uint32_t> publishes_;                   // outstanding Publish request ids, oldest first
  std::map<std::uint32_t, std::string> stash_;            // their answers that arrived during other calls
  std::uint32_t last_service_result_ = 0;
  std::uint32_t last_publish_id_ = 0;
};

// Splits opc.tcp://host[:port][/path] (default port 4840).
bool parse_endpoint(const std::string& url, std::string& host, std::string& port);

// "BadNodeIdUnknown (0x80340000)"
std::string status_text(std::uint32_t code);

template <typename Req, typename Resp>
Status Client::call(Req& request, Resp& response) {
  if (auto s = renew_if_due(); !s.is_ok()) return s;
  request.request_header = header();
  request.request_header.timeout_hint = static_cast<std::uint32_t>(wait_ms_ > 0 ? wait_ms_ : options_.timeout_ms);
  std::uint32_t request_id = next_request_id();
  std::string body;
  if (auto s = roundtrip(request_id, ua::encode_service(request), body); !s.is_ok()) return s;
  return decode_response(body, response);
}

template <typename Resp>
Status Client::decode_response(const std::string& body, Resp& response) {
  last_service_result_ = 0;
  if (ua::peek_service_type(body) == ua::ServiceFault::kBinaryEncodingId) {
    ua::ServiceFault fault;
    if (auto s = ua::decode_service(body, fault, options_.decode_limits); !s.is_ok()) return fail_connection(s);
    last_service_result_ = fault.response_header.service_result.code;
    return Status(uc::StatusCode::kFailedPrecondition, "service fault: " + status_text(last_service_result_));
  }
  if (auto s = ua::decode_service(body, response, options_.decode_limits); !s.is_ok()) return fail_connection(s);
  if (response.response_header.service_result.is_bad()) {
    last_service_result_ = response.response_header.service_result.code;
    return Status(uc::StatusCode::kFailedPrecondition, "service result " + status_text(last_service_result_));
  }
  return Status::ok();
}

}  // namespace uc::clients::opcua
