#include "sources/opcua/tags.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <set>

#include "normalize/glob.h"
#include "protocols/opcua/generated/node_ids.h"
#include "protocols/opcua/generated/status_codes.h"

namespace uc::sources::opcua {
namespace {

namespace ua = uc::opcua;
using clients::opcua::Client;
using clients::opcua::BrowsedNode;
using clients::opcua::status_text;

constexpr int kMaxDiscoveryDepth = 32;

std::string short_name(const ua::QualifiedName& q) { return q.name.value_or(""); }

bool name_matches(std::string_view segment, const ua::QualifiedName& q) {
  auto colon = segment.find(':');
  if (colon != std::string_view::npos) {
    std::string_view ns = segment.substr(0, colon);
    if (!ns.empty() && ns.find_first_not_of("0123456789") == std::string_view::npos) {
      return ns == std::to_string(q.ns) && segment.substr(colon + 1) == q.name.value_or("");
    }
  }
  return segment == q.name.value_or("");
}

bool segment_matches(const PathSegment& seg, const ua::QualifiedName& q) {
  return (!seg.ns || *seg.ns == q.ns) && seg.name == q.name.value_or("");
}

std::string path_text(const std::vector<PathSegment>& path, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count && i < path.size(); ++i) {
    if (!out.empty()) out += '/';
    if (path[i].ns) out += std::to_string(*path[i].ns) + ':';
    out += path[i].name;
  }
  return out;
}

// Walks `path` from the Root folder with Browse, a plain segment matching any namespace
// (the first match in server order). Sets `missing` to the first segment not found.
// The first child of `node` (forward references on this server) whose browse name
// `matches`; nullopt when none does.
template <typename Match>
Result<std::optional<ua::NodeId>> find_child(Client& client, const ua::NodeId& node, Match&& matches) {
  auto refs = client.browse_all(node);
  if (!refs) return refs.status();
  for (const auto& r : *refs) {
    if (r.node_id.server_index == 0 && matches(r.browse_name)) return std::optional<ua::NodeId>(r.node_id.node_id);
  }
  return std::optional<ua::NodeId>();
}

Status walk_path(Client& client, const std::vector<PathSegment>& path, ua::NodeId& out, std::string& missing) {
  ua::NodeId node(ua::ids::kRootFolder);
  for (std::size_t i = 0; i < path.size(); ++i) {
    auto child = find_child(client, node, [&](const ua::QualifiedName& q) { return segment_matches(path[i], q); });
    if (!child) return child.status();
    if (!*child) {
      const std::vector<PathSegment> one{path[i]};
      missing = "no node named " + path_text(one, 1) + " below " + (i == 0 ? std::string("Root") : path_text(path, i));
      return Status::ok();
    }
    node = **child;
  }
  out = node;
  missing.clear();
  return Status::ok();
}

// Browse requests carry at most this many nodes when the server states no MaxNodesPerBrowse.
constexpr std::size_t kDefaultBrowseBatch = 1000;

std::vector<std::string_view> split_path(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    auto slash = s.find('/');
    std::string_view seg = s.substr(0, slash);
    if (!seg.empty()) out.push_back(seg);
    if (slash == std::string_view::npos) break;
    s.remove_prefix(slash + 1);
  }
  return out;
}

// The first target of a translated path that is complete and on this server.
const ua::BrowsePathTarget* local_target(const ua::BrowsePathResult& r) {
  for (const auto& x : r.targets) {
    if (x.target_id.server_index == 0 && x.remaining_path_index == 0xFFFFFFFFu) return &x;
  }
  return nullptr;
}

}  // namespace

ua::MonitoringParameters item_parameters(const Options& options, const NodeConfig* node) {
  ItemOverrides none;
  const ItemOverrides& o = node != nullptr ? node->item : none;
  ua::MonitoringParameters p;
  p.client_handle = 0;
  p.sampling_interval = o.sampling_interval_ms.value_or(options.sampling_interval_ms);
  p.queue_size = static_cast<std::uint32_t>(o.queue_size.value_or(options.queue_size));
  p.discard_oldest = o.discard_oldest.value_or(options.discard_oldest);
  const Deadband d = o.deadband.value_or(options.deadband);
  if (d.type != DeadbandType::kNone) {
    ua::DataChangeFilter f;
    f.trigger = ua::DataChangeTrigger::kStatusValue;
    f.deadband_type = static_cast<std::uint32_t>(d.type);
    f.deadband_value = d.value;
    p.filter = ua::make_extension(f);
  }
  return p;
}

ua::BrowsePath to_browse_path(const std::vector<PathSegment>& path) {
  ua::BrowsePath bp;
  bp.starting_node = ua::NodeId(ua::ids::kRootFolder);
  std::uint16_t ns = 0;
  for (const auto& seg : path) {
    if (seg.ns) ns = *seg.ns;
    ua::RelativePathElement e;
    e.reference_type_id = ua::NodeId(ua::ids::kHierarchicalReferences);
    e.is_inverse = false;
    e.include_subtypes = true;
    e.target_name = ua::QualifiedName{ns, seg.name};
    bp.relative_path.elements.push_back(std::move(e));
  }
  return bp;
}

std::vector<ua::MonitoredItemCreateRequest> monitored_items(const Options& options, const std::vector<Tag>& tags) {
  std::vector<ua::MonitoredItemCreateRequest> items;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    if (!tags[i].resolved) continue;
    ua::MonitoredItemCreateRequest m;
    m.item_to_monitor = ua::ReadValueId{tags[i].node, 13, std::nullopt, ua::QualifiedName{}};
    m.monitoring_mode = ua::MonitoringMode::kReporting;
    m.requested_parameters = item_parameters(options, tags[i].config);
    m.requested_parameters.client_handle = static_cast<std::uint32_t>(i);
    items.push_back(std::move(m));
  }
  return items;
}

bool same_tags(const std::vector<Tag>& a, const std::vector<Tag>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](const Tag& x, const Tag& y) {
           return x.resolved == y.resolved && x.node == y.node;
         });
}

TagResolver::TagResolver(const Options& options, std::string source_name)
    : options_(options), source_(std::move(source_name)) {}

std::vector<Tag> TagResolver::configured() const {
  std::vector<Tag> tags;
  for (const NodeConfig& n : options_.nodes) tags.push_back(configured_tag(n, {}));
  return tags;
}

Result<std::vector<Tag>> TagResolver::resolve(Client& client) const {
  std::vector<Tag> tags;
  for (const NodeConfig& n : options_.nodes) tags.push_back(configured_tag(n, client.namespace_array()));
  if (auto st = resolve_paths(client, tags); !st.is_ok()) return st;
  for (const BrowseConfig& b : options_.browse) {
    if (auto st = discover(client, b, tags); !st.is_ok()) return st;
  }
  return tags;
}

// A configured node as far as it resolves without asking the server: node ids (nsu= by
// `namespaces`); browse paths are left for resolve_paths().
Tag TagResolver::configured_tag(const NodeConfig& n, const std::vector<std::string>& namespaces) const {
  Tag t;
  t.config = &n;
  auto meta = std::make_shared<TagMeta>();
  meta->tag_name = n.tag_name;
  meta->signal_type = n.signal_type;
  meta->unit = n.unit;
  t.meta = meta;
  if (!n.browse_path.empty()) {
    t.address = n.browse_path;
    meta->name_path = n.browse_path;
    t.unresolved_reason = "browse path " + n.browse_path + ": not resolved yet (no session)";
    return t;
  }
  t.address = n.node_id;
  meta->name_path = n.node_id;
  std::string text = n.node_id;
  std::string uri;
  if (text.starts_with("nsu=")) {
    auto semi = text.find(';');
    uri = text.substr(4, semi - 4);
    text = text.substr(semi + 1);
  }
  if (!ua::parse_node_id(text, t.node)) {
    t.unresolved_reason = "invalid node id";
  } else if (!uri.empty()) {
    t.unresolved_reason = "namespace " + uri + " is not in the server's NamespaceArray";
    for (std::size_t i = 0; i < namespaces.size(); ++i) {
      if (namespaces[i] == uri) {
        t.node.ns = static_cast<std::uint16_t>(i);
        t.unresolved_reason.clear();
      }
    }
  }
  t.resolved = t.unresolved_reason.empty();
  return t;
}

// Nodes by browse path: TranslateBrowsePathsToNodeIds; a path with plain segments that
// does not translate is walked with Browse.
Status TagResolver::resolve_paths(Client& client, std::vector<Tag>& tags) const {
  std::vector<ua::BrowsePath> paths;
  std::vector<Tag*> path_tag;  // paths[k] is for *path_tag[k]
  for (Tag& t : tags) {
    if (t.config == nullptr || t.config->browse_path.empty()) continue;
    paths.push_back(to_browse_path(t.config->path));
    path_tag.push_back(&t);
  }
  if (paths.empty()) return Status::ok();
  auto results = client.translate(paths);
  if (!results && results.status().code() != uc::StatusCode::kFailedPrecondition) return results.status();
  for (std::size_t k = 0; k < path_tag.size(); ++k) {
    Tag& t = *path_tag[k];
    const NodeConfig& n = *t.config;
    std::string why;
    if (!results) {
      why = "TranslateBrowsePathsToNodeIds failed: " + results.status().message();
    } else {
      const ua::BrowsePathResult& r = (*results)[k];
      const ua::BrowsePathTarget* target = local_target(r);
      if (r.status_code.is_good() && target != nullptr) {
        t.node = target->target_id.node_id;
        t.resolved = true;
        t.unresolved_reason.clear();
        continue;
      }
      t.unresolved_code = r.status_code.is_bad() ? r.status_code.code : ua::status::kBadNoMatch;
      why = status_text(t.unresolved_code);
    }
    const bool plain = std::any_of(n.path.begin(), n.path.end(), [](const PathSegment& p) { return !p.ns; });
    if (plain) {
      std::string missing;
      ua::NodeId found;
      if (auto st = walk_path(client, n.path, found, missing); !st.is_ok()) {
        if (st.code() != uc::StatusCode::kFailedPrecondition) return st;
        missing = st.message();
      }
      if (missing.empty()) {
        t.node = found;
        t.resolved = true;
        t.unresolved_reason.clear();
        continue;
      }
      why += "; " + missing;
    }
    t.unresolved_reason = "browse path " + n.browse_path + ": " + why;
  }
  return Status::ok();
}

Status TagResolver::discover(Client& client, const BrowseConfig& b, std::vector<Tag>& tags) const {
  // The root: a browse path from the Root folder ("Objects/Plant" or "Root/Objects/Plant").
  ua::NodeId node(ua::ids::kRootFolder);
  auto segments = split_path(b.root);
  std::size_t first = !segments.empty() && segments.front() == "Root" ? 1 : 0;
  for (std::size_t i = first; i < segments.size(); ++i) {
    auto child = find_child(client, node, [&](const ua::QualifiedName& q) { return name_matches(segments[i], q); });
    if (!child) return child.status();
    if (!*child) {
      spdlog::warn("source={} browse root {}: no node named {}", source_, b.root, std::string(segments[i]));
      return Status::ok();
    }
    node = **child;
  }
  // Breadth-first, one level at a time: many nodes per Browse request (the client splits
  // them by MaxNodesPerBrowse and follows continuation points with BrowseNext); within a
  // level, nodes and their references in server order.
  int found_here = 0;
  bool truncated = false;  // stopped at max_nodes with nodes left to look at
  std::set<std::string> seen;
  struct Item {
    ua::NodeId id;
    std::string rel;
    int depth;
  };
  std::vector<Item> level{{node, "", 0}};
  while (!level.empty() && found_here < b.max_nodes) {
    std::vector<Item> next;
    Status failure = Status::ok();
    const std::size_t batch = client.operation_limits().max_nodes_per_browse == 0 ? kDefaultBrowseBatch : level.size();
    for (std::size_t from = 0; from < level.size() && failure.is_ok() && found_here < b.max_nodes; from += batch) {
      const std::size_t to = std::min(level.size(), from + batch);
      std::vector<ua::NodeId> ids;
      ids.reserve(to - from);
      for (std::size_t i = from; i < to; ++i) ids.push_back(level[i].id);
      auto on_node = [&](std::size_t i, BrowsedNode&& browsed) {
        const Item& it = level[from + i];
        if (browsed.status.is_bad()) {
          failure = Status(uc::StatusCode::kFailedPrecondition,
                           "browse " + ua::to_string(it.id) + ": " + status_text(browsed.status.code));
          return false;
        }
        const auto& refs = browsed.refs;
        for (std::size_t ri = 0; ri < refs.size(); ++ri) {
          const auto& r = refs[ri];
          if (r.node_id.server_index != 0) continue;
          const ua::NodeId& child = r.node_id.node_id;
          if (!seen.insert(ua::to_string(child)).second) continue;
          std::string rel = it.rel.empty() ? short_name(r.browse_name) : it.rel + "/" + short_name(r.browse_name);
          if (r.node_class == ua::NodeClass::kVariable && normalize::glob_match(b.pattern, rel)) {
            Tag t;
            t.address = ua::to_string(child);
            t.node = child;
            t.resolved = true;
            auto meta = std::make_shared<TagMeta>();
            meta->name_path = b.root + "/" + rel;
            t.meta = meta;
            tags.push_back(std::move(t));
            if (++found_here >= b.max_nodes) {
              truncated = ri + 1 < refs.size() || from + i + 1 < level.size() || !next.empty();
              return false;
            }
          }
          if ((r.node_class == ua::NodeClass::kObject || r.node_class == ua::NodeClass::kVariable) &&
              it.depth + 1 < kMaxDiscoveryDepth) {
            next.push_back({child, std::move(rel), it.depth + 1});
          }
        }
        return true;
      };
      if (auto st = client.browse_many(ids, on_node); !st.is_ok()) return st;
    }
    if (!failure.is_ok()) return failure;
    level = std::move(next);
  }
  if (truncated) {
    spdlog::warn("source={} browse root {}: stopped at max_nodes {}; more nodes may match", source_, b.root,
                 b.max_nodes);
  }
  return Status::ok();
}

}  // namespace uc::sources::opcua
