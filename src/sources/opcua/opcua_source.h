// The OPC UA source: one server connection on its own thread, polled with Read or
// subscribed to.
//
// - Runs on the source runtime (pipeline/source_loop.h), which owns the thread, stop,
//   waits and the reconnect back-off. The body connects (Hello, OpenSecureChannel None,
//   CreateSession/ActivateSession anonymous or with a user name), resolves the configured
//   nodes (nsu= through the server's NamespaceArray; browse_path with
//   TranslateBrowsePathsToNodeIds; browse roots by browse path, then every Variable below
//   whose relative browse path matches the glob, up to max_nodes, breadth-first with many
//   nodes per Browse request) and reads all tags every
//   polling_interval_ms, split to honour the server's MaxNodesPerRead. One poll is one batch.
// - Each sample keeps the value with its OPC UA type (TagMeta::data_type), the StatusCode
//   (ProtocolStatus kOpcUa), the source timestamp (Sample::source_time) and the server
//   timestamp (per-sample metadata "opcua_server_time_us").
// - A lost connection, timeout or malformed answer publishes bad samples (kCommError with
//   the cause) for every tag, closes the connection and reconnects with exponential
//   back-off and ±20 % jitter; node resolution is repeated on every new session.
// - Subscription mode: one subscription (publishing_interval_ms, keep_alive_count,
//   lifetime 3 × keep-alive) with one monitored item per tag (item_parameters(): sampling interval,
//   queue size, discard oldest, deadband filter); publish_requests Publish
//   requests outstanding, each acknowledging what arrived before it; each NotificationMessage
//   is one batch. Sequence gaps (in data or keep-alive numbers) are asked for again with
//   Republish; what the server no longer has is counted as lost. No answer within
//   interval × keep-alive count + timeout_ms (the watchdog), a StatusChangeNotification or
//   any failure closes the connection.
// - Reconnect: ActivateSession of the old session on the new channel (its subscription
//   lives on; gaps are recovered as above); if the server no longer has it, a new session,
//   then TransferSubscriptions of the old subscription when the tags are the same, else
//   (or when the transfer is refused) a new subscription whose initial values close the gap.
//   A Publish answered BadNoSubscription re-creates the subscription on the same session.
// - A stop cancels the blocked call; the body deletes the subscription and closes the
//   session (waiting at most 2 s) before it returns.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/source.h"
#include "protocols/opcua/types.h"
#include "sources/opcua/client.h"
#include "sources/opcua/config.h"

namespace uc::sources::opcua {

// The protocol-neutral value of an OPC UA Variant: Boolean -> bool, signed integers ->
// int64, unsigned -> uint64, Float/Double -> double, String/LocalizedText/QualifiedName/
// NodeId/Guid -> string, DateTime -> ISO 8601 UTC string, ByteString -> bytes, StatusCode ->
// uint64, arrays and matrices -> a flat Array (row-major). Other types give null.
Value to_value(const uc::opcua::Variant& v);

// True when `path` (segments separated by '/') matches `pattern`, where '*' matches within
// one segment and a "**" segment matches any number of segments.
bool glob_match(std::string_view pattern, std::string_view path);

// The MonitoringParameters of one monitored item (client handle 0): the node's overrides
// (`node` may be null: a discovered variable) over the source's defaults; a deadband other
// than None becomes a DataChangeFilter ExtensionObject with trigger StatusValue.
uc::opcua::MonitoringParameters item_parameters(const Options& options, const NodeConfig* node);

// The TranslateBrowsePathsToNodeIds request for a parsed browse path from the Root folder:
// hierarchical references (with subtypes) forward; a segment without a namespace index
// takes the one of the segment before it (the first: 0).
uc::opcua::BrowsePath to_browse_path(const std::vector<PathSegment>& path);

class OpcuaSource final : public pipeline::Source {
 public:
  OpcuaSource(std::string name, Options options);

  const std::string& name() const override { return name_; }
  void run(pipeline::SourceContext& ctx) override;
  std::vector<pipeline::ExtraCounter> extra_counters() const override;

 private:
  struct Tag {
    std::string address;            // configured node id text, or the discovered node's id
    uc::opcua::NodeId node;         // resolved for the current session
    bool resolved = false;
    std::string unresolved_reason;
    std::uint32_t unresolved_code = 0x80340000;  // BadNodeIdUnknown unless the server said otherwise
    std::shared_ptr<TagMeta> meta;
    const NodeConfig* config = nullptr;  // configured nodes (monitored-item overrides); null when discovered
  };
  ClientOptions client_options() const;
  Sample make_sample(Tag& tag, uc::opcua::DataValue& value, TimestampUs now);
  // The configured and discovered tags; without a client (not connected yet) only the
  // configured nodes, nsu= ones unresolved.
  Status resolve_tags(Client* client, std::vector<Tag>& tags);
  Status discover(Client& client, const BrowseConfig& b, std::vector<Tag>& tags);

  struct Counters {
    std::atomic<std::uint64_t> session_reactivations{0};
    std::atomic<std::uint64_t> subscription_transfers{0};
    std::atomic<std::uint64_t> subscriptions_created{0};
    std::atomic<std::uint64_t> notifications_republished{0};
    std::atomic<std::uint64_t> notifications_lost{0};
    std::atomic<std::uint64_t> token_renewals{0};
  };

  std::string name_;
  Options options_;
  std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();
};

}  // namespace uc::sources::opcua
