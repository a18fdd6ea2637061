// The OPC UA source's tags: which nodes it reads, found on the server's session.
//
// - Configured nodes: a node id (an nsu= namespace URI is looked up in the server's
//   NamespaceArray) or a browse path from the Root folder (TranslateBrowsePathsToNodeIds,
//   split by the server's limit; a path with plain segments that does not translate is
//   walked with Browse, where a plain segment matches any namespace).
// - Browse roots: every Variable below the root whose relative browse path matches the
//   glob, up to max_nodes, breadth-first with many nodes per Browse request.
// - A node that cannot be resolved stays a tag (resolved = false) with the reason and the
//   StatusCode to report it with, so each failure is published per tag.
// - Before a session (no client) only the configured nodes stand for the tags, nsu= and
//   browse-path ones unresolved.
// Errors: a failed service call (connection lost, timeout) is returned; what the server
// answers about one node is that tag's reason.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "clients/opcua/client.h"
#include "core/sample.h"
#include "core/status.h"
#include "protocols/opcua/types.h"
#include "sources/opcua/config.h"

namespace uc::sources::opcua {

struct Tag {
  std::string address;      // configured node id or browse path, or the discovered node's id
  uc::opcua::NodeId node;  // resolved for the current session
  bool resolved = false;
  std::string unresolved_reason;
  std::uint32_t unresolved_code = 0x80340000;  // BadNodeIdUnknown unless the server said otherwise
  std::shared_ptr<TagMeta> meta;
  const NodeConfig* config = nullptr;  // configured nodes (monitored-item overrides); null when discovered
};

// The same nodes, resolved the same way: a subscription made for `a` serves `b`.
bool same_tags(const std::vector<Tag>& a, const std::vector<Tag>& b);

class TagResolver {
 public:
  // `options` must outlive the resolver and its tags (Tag::config points into it).
  TagResolver(const Options& options, std::string source_name);

  // The configured nodes without a session.
  std::vector<Tag> configured() const;
  // Every tag, resolved on the client's session.
  Result<std::vector<Tag>> resolve(clients::opcua::Client& client) const;

 private:
  Tag configured_tag(const NodeConfig& n, const std::vector<std::string>& namespaces) const;
  Status resolve_paths(clients::opcua::Client& client, std::vector<Tag>& tags) const;
  Status discover(clients::opcua::Client& client, const BrowseConfig& b, std::vector<Tag>& tags) const;

  const Options& options_;
  std::string source_;
};

// The TranslateBrowsePathsToNodeIds request for a parsed browse path from the Root folder:
// hierarchical references (with subtypes) forward; a segment without a namespace index
// takes the one of the segment before it (the first: 0).
uc::opcua::BrowsePath to_browse_path(const std::vector<PathSegment>& path);

// The MonitoringParameters of one monitored item (client handle 0): the node's overrides
// (`node` may be null: a discovered variable) over the source's defaults; a deadband other
// than None becomes a DataChangeFilter ExtensionObject with trigger StatusValue.
uc::opcua::MonitoringParameters item_parameters(const Options& options, const NodeConfig* node);

// One monitored item per resolved tag, its client handle the tag's index.
std::vector<uc::opcua::MonitoredItemCreateRequest> monitored_items(const Options& options,
                                                                   const std::vector<Tag>& tags);

}  // namespace uc::sources::opcua
