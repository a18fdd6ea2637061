#include "sources/opcua/opcua_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <random>
#include <set>

#include "pipeline/source_loop.h"
#include "protocols/opcua/generated/node_ids.h"
#include "protocols/opcua/generated/status_codes.h"

namespace uc::sources::opcua {
namespace {

namespace ua = uc::opcua;
using pipeline::ComponentState;

constexpr int kMaxDiscoveryDepth = 32;

std::string iso_time(ua::DateTime t) {
  std::int64_t us = ua::datetime_to_unix_us(t);
  std::int64_t secs = us >= 0 ? us / 1'000'000 : (us - 999'999) / 1'000'000;
  std::int64_t frac = us - secs * 1'000'000;
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (frac != 0) {
    char f[32];
    std::snprintf(f, sizeof f, ".%06lld", static_cast<long long>(frac));
    std::string fs = f;
    while (fs.back() == '0') fs.pop_back();
    out += fs;
  }
  return out + "Z";
}

std::string guid_text(const ua::Guid& g) {
  ua::NodeId n;
  n.id = g;
  return ua::to_string(n).substr(2);  // "g=..." without the prefix
}

Scalar to_scalar(const ua::Variant::Scalar& s) {
  return std::visit(
      [](const auto& x) -> Scalar {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          return x;
        } else if constexpr (std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::int16_t> ||
                             std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::int64_t>) {
          return static_cast<std::int64_t>(x);
        } else if constexpr (std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::uint16_t> ||
                             std::is_same_v<T, std::uint32_t> || std::is_same_v<T, std::uint64_t>) {
          return static_cast<std::uint64_t>(x);
        } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
          return static_cast<double>(x);
        } else if constexpr (std::is_same_v<T, ua::String>) {
          return x.value_or(std::string());
        } else if constexpr (std::is_same_v<T, ua::DateTime>) {
          return iso_time(x);
        } else if constexpr (std::is_same_v<T, ua::Guid>) {
          return guid_text(x);
        } else if constexpr (std::is_same_v<T, ua::ByteString>) {
          const std::string b = x.data.value_or(std::string());
          return Bytes{std::vector<std::uint8_t>(b.begin(), b.end())};
        } else if constexpr (std::is_same_v<T, ua::XmlElement>) {
          return x.data.value_or(std::string());
        } else if constexpr (std::is_same_v<T, ua::NodeId>) {
          return ua::to_string(x);
        } else if constexpr (std::is_same_v<T, ua::ExpandedNodeId>) {
          return ua::to_string(x.node_id);
        } else if constexpr (std::is_same_v<T, ua::StatusCode>) {
          return static_cast<std::uint64_t>(x.code);
        } else if constexpr (std::is_same_v<T, ua::QualifiedName>) {
          return x.name.value_or(std::string());
        } else if constexpr (std::is_same_v<T, ua::LocalizedText>) {
          return x.text.value_or(std::string());
        } else {
          return std::monostate{};
        }
      },
      s);
}

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
Status walk_path(Client& client, const std::vector<PathSegment>& path, ua::NodeId& out, std::string& missing) {
  ua::NodeId node(ua::ids::kRootFolder);
  for (std::size_t i = 0; i < path.size(); ++i) {
    auto refs = client.browse_all(node);
    if (!refs) return refs.status();
    bool found = false;
    for (const auto& r : *refs) {
      if (r.node_id.server_index == 0 && segment_matches(path[i], r.browse_name)) {
        node = r.node_id.node_id;
        found = true;
        break;
      }
    }
    if (!found) {
      const std::vector<PathSegment> one{path[i]};
      missing = "no node named " + path_text(one, 1) + " below " + (i == 0 ? std::string("Root") : path_text(path, i));
      return Status::ok();
    }
  }
  out = node;
  missing.clear();
  return Status::ok();
}

// Browse requests carry at most this many nodes when the server states no MaxNodesPerBrowse.
constexpr std::size_t kDefaultBrowseBatch = 1000;

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

Value to_value(const ua::Variant& v) {
  if (v.is_null() || v.values.empty()) return v.is_array ? Value(Array{}) : Value();
  if (!v.is_array) {
    Scalar s = to_scalar(v.values.front());
    return std::visit([](auto&& x) -> Value { return Value(std::move(x)); }, std::move(s));
  }
  Array a;
  a.items.reserve(v.values.size());
  for (const auto& s : v.values) a.items.push_back(to_scalar(s));
  return a;
}

static bool glob_segment(std::string_view p, std::string_view s) {
  // '*' within one segment, iterative with backtracking.
  std::size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == s[si] || p[pi] == '?')) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

static std::vector<std::string_view> split_path(std::string_view s) {
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

static bool glob_segments(const std::vector<std::string_view>& p, std::size_t pi, const std::vector<std::string_view>& s,
                          std::size_t si) {
  if (pi == p.size()) return si == s.size();
  if (p[pi] == "**") {
    for (std::size_t k = si; k <= s.size(); ++k) {
      if (glob_segments(p, pi + 1, s, k)) return true;
    }
    return false;
  }
  return si < s.size() && glob_segment(p[pi], s[si]) && glob_segments(p, pi + 1, s, si + 1);
}

bool glob_match(std::string_view pattern, std::string_view path) {
  return glob_segments(split_path(pattern), 0, split_path(path), 0);
}

OpcuaSource::OpcuaSource(std::string name, Options options) : name_(std::move(name)), options_(std::move(options)) {}

ClientOptions OpcuaSource::client_options() const {
  ClientOptions co;
  co.endpoint_url = options_.endpoint;
  co.timeout_ms = options_.timeout_ms;
  co.session_timeout_ms = options_.session_timeout_ms;
  co.requested_lifetime_ms = static_cast<std::uint32_t>(options_.channel_lifetime_ms);
  co.session_name = "unified-connector " + name_;
  co.username = options_.security.username.value;
  co.password = options_.security.password.value;
  return co;
}

Status OpcuaSource::resolve_tags(Client* client, std::vector<Tag>& tags) {
  tags.clear();
  static const std::vector<std::string> kNone;
  const auto& namespaces = client != nullptr ? client->namespace_array() : kNone;
  std::vector<ua::BrowsePath> paths;
  std::vector<std::size_t> path_tag;  // paths[k] is for tags[path_tag[k]]
  for (const NodeConfig& n : options_.nodes) {
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
      if (client != nullptr) {
        paths.push_back(to_browse_path(n.path));
        path_tag.push_back(tags.size());
      }
      tags.push_back(std::move(t));
      continue;
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
    tags.push_back(std::move(t));
  }
  if (client == nullptr) return Status::ok();
  if (!paths.empty()) {
    // Nodes by browse path: TranslateBrowsePathsToNodeIds (split by the server's limit); a
    // path with plain segments that does not translate is walked with Browse, where a plain
    // segment matches any namespace.
    auto results = client->translate(paths);
    if (!results && results.status().code() != uc::StatusCode::kFailedPrecondition) return results.status();
    for (std::size_t k = 0; k < path_tag.size(); ++k) {
      Tag& t = tags[path_tag[k]];
      const NodeConfig& n = *t.config;
      std::string why;
      if (!results) {
        why = "TranslateBrowsePathsToNodeIds failed: " + results.status().message();
      } else {
        const ua::BrowsePathResult& r = (*results)[k];
        const ua::BrowsePathTarget* target = nullptr;
        for (const auto& x : r.targets) {
          if (x.target_id.server_index == 0 && x.remaining_path_index == 0xFFFFFFFFu) {
            target = &x;
            break;
          }
        }
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
        if (auto st = walk_path(*client, n.path, found, missing); !st.is_ok()) {
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
  }
  for (const BrowseConfig& b : options_.browse) {
    if (auto s = discover(*client, b, tags); !s.is_ok()) return s;
  }
  return Status::ok();
}

Status OpcuaSource::discover(Client& client, const BrowseConfig& b, std::vector<Tag>& tags) {
  // The root: a browse path from the Root folder ("Objects/Plant" or "Root/Objects/Plant").
  ua::NodeId node(ua::ids::kRootFolder);
  auto segments = split_path(b.root);
  std::size_t first = !segments.empty() && segments.front() == "Root" ? 1 : 0;
  for (std::size_t i = first; i < segments.size(); ++i) {
    auto refs = client.browse_all(node);
    if (!refs) return refs.status();
    bool found = false;
    for (const auto& r : *refs) {
      if (r.node_id.server_index == 0 && name_matches(segments[i], r.browse_name)) {
        node = r.node_id.node_id;
        found = true;
        break;
      }
    }
    if (!found) {
      spdlog::warn("source={} browse root {}: no node named {}", name_, b.root, std::string(segments[i]));
      return Status::ok();
    }
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
          if (r.node_class == ua::NodeClass::kVariable && glob_match(b.pattern, rel)) {
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
    spdlog::warn("source={} browse root {}: stopped at max_nodes {}; more nodes may match", name_, b.root,
                 b.max_nodes);
  }
  return Status::ok();
}

Sample OpcuaSource::make_sample(Tag& t, ua::DataValue& dv, TimestampUs now) {
  Sample s;
  s.address = t.address;
  s.receive_time = now;
  if (dv.value) {
    if (t.meta && t.meta->data_type.empty() && !dv.value->is_null()) {
      // Published samples share the old meta: replace it rather than write to it.
      auto meta = std::make_shared<TagMeta>(*t.meta);
      meta->data_type = ua::builtin_type_name(dv.value->type);
      t.meta = std::move(meta);
    }
    if (dv.value->is_array && !dv.value->dims.empty()) {
      std::string dims;
      for (auto d : dv.value->dims) dims += (dims.empty() ? "" : ",") + std::to_string(d);
      s.metadata.emplace_back("opcua_array_dimensions", dims);
    }
    s.value = to_value(*dv.value);
  }
  s.meta = t.meta;
  const std::uint32_t code = dv.status ? dv.status->code : 0;
  s.status = {ProtocolStatus::Kind::kOpcUa, code, code == 0 ? std::string() : ua::status::name(code)};
  if (dv.source_timestamp && dv.source_timestamp->ticks != 0) s.source_time = ua::datetime_to_unix_us(*dv.source_timestamp);
  if (dv.server_timestamp && dv.server_timestamp->ticks != 0) {
    s.metadata.emplace_back("opcua_server_time_us", std::to_string(ua::datetime_to_unix_us(*dv.server_timestamp)));
  }
  return s;
}

void OpcuaSource::run(pipeline::SourceContext& ctx) {
  Client client(client_options(), ctx.clock());
  // A stop cancels the blocked call softly: the body still closes the session.
  auto interrupt = ctx.on_interrupt([&client] { client.cancel(); });
  Counters& counters = *counters_;
  const bool subscribe = options_.mode == Mode::kSubscription;
  std::vector<Tag> tags;
  std::vector<ua::ReadValueId> reads;
  std::vector<std::size_t> read_tag;  // reads[i] is for tags[read_tag[i]]
  // Subscription state. It outlives a connection: a re-activated session keeps its
  // subscription, a new session may take it over with TransferSubscriptions.
  std::uint32_t subscription_id = 0;
  std::uint32_t last_sequence = 0;   // of the last NotificationMessage handled
  std::uint32_t subscribed_mark = 0;  // Publish requests sent before this id predate the subscription
  int publish_wait_ms = 0;           // the watchdog: a notification or keep-alive is due within this
  std::uint32_t publish_hint_ms = 0;
  std::size_t publish_target = static_cast<std::size_t>(options_.publish_requests);
  std::vector<ua::SubscriptionAcknowledgement> acks;
  std::uint32_t status_change = 0;  // set by on_notification from a StatusChangeNotification
  bool just_transferred = false;    // the next GoodSubscriptionTransferred is about our own transfer
  bool tags_ready = false;          // tags resolved on the current session
  bool subscription_ready = false;  // subscription_id has all its monitored items
  bool connected = false;
  std::int64_t next_poll = 0;
  auto stopping = [&] { return ctx.stopping(); };
  auto publish = [&](SampleBatch&& batch) { return ctx.publish(std::move(batch)); };
  // The connection is gone (the session may live on in the server): bad records for every
  // tag, then reconnect after the back-off.
  auto lose = [&](const Status& st) {
    client.disconnect();
    connected = false;
    ctx.connection_failed(st);
    SampleBatch batch;
    const ProtocolStatus bad{ProtocolStatus::Kind::kCommError, 0, st.message()};
    for (const Tag& t : tags) batch.push_back(ctx.bad_sample(t.address, t.meta, bad));
    return publish(std::move(batch));
  };
  auto unresolved_sample = [&](const Tag& t, std::uint32_t code, const std::string& why) {
    return ctx.bad_sample(t.address, t.meta, {ProtocolStatus::Kind::kOpcUa, code, why});
  };
  // Notifications of one NotificationMessage as one batch.
  auto on_notification = [&](const ua::NotificationMessage& msg) {
    SampleBatch batch;
    const TimestampUs now = ctx.clock().now_us();
    for (const auto& ext : msg.notification_data) {
      if (ext.type_id == ua::NodeId(ua::DataChangeNotification::kBinaryEncodingId)) {
        ua::DataChangeNotification n;
        std::string err;
        if (!ua::decode_extension(ext, n, ua::Limits(), &err)) return Status(uc::StatusCode::kDataLoss, err);
        for (auto& item : n.monitored_items) {
          if (item.client_handle >= tags.size()) continue;
          batch.push_back(make_sample(tags[item.client_handle], item.value, now));
        }
      } else if (ext.type_id == ua::NodeId(ua::StatusChangeNotification::kBinaryEncodingId)) {
        ua::StatusChangeNotification n;
        (void)ua::decode_extension(ext, n, ua::Limits());
        status_change = n.status.code == 0 ? ua::status::kBadUnexpectedError : n.status.code;
      }
    }
    if (!publish(std::move(batch))) return Status(uc::StatusCode::kCancelled, "stopping");
    return Status::ok();
  };
  // Creates the subscription and one monitored item per resolved tag (client handle = index).
  auto subscribe_all = [&]() -> Status {
    const auto keep_alive = static_cast<std::uint32_t>(options_.keep_alive_count);
    auto sub = client.create_subscription(options_.publishing_interval_ms, keep_alive * 3, keep_alive);
    if (!sub) return sub.status();
    subscription_id = sub->subscription_id;
    subscription_ready = false;
    just_transferred = false;
    ++counters.subscriptions_created;
    last_sequence = 0;
    acks.clear();
    // Watchdog: a notification or keep-alive is due within interval × keep-alive count.
    publish_wait_ms = static_cast<int>(sub->revised_publishing_interval * sub->revised_max_keep_alive_count) +
                      options_.timeout_ms;
    // A parked Publish may wait for its turn behind the others.
    publish_hint_ms = static_cast<std::uint32_t>(publish_wait_ms) * static_cast<std::uint32_t>(publish_target + 1);
    std::vector<ua::MonitoredItemCreateRequest> items;
    std::vector<std::size_t> item_tag;
    for (std::size_t i = 0; i < tags.size(); ++i) {
      if (!tags[i].resolved) continue;
      ua::MonitoredItemCreateRequest m;
      m.item_to_monitor = ua::ReadValueId{tags[i].node, 13, std::nullopt, ua::QualifiedName{}};
      m.monitoring_mode = ua::MonitoringMode::kReporting;
      m.requested_parameters = item_parameters(options_, tags[i].config);
      m.requested_parameters.client_handle = static_cast<std::uint32_t>(i);
      items.push_back(std::move(m));
      item_tag.push_back(i);
    }
    auto results = client.create_monitored_items(subscription_id, items);
    if (!results) return results.status();
    subscription_ready = true;
    subscribed_mark = client.request_id_mark();
    SampleBatch rejected;
    for (std::size_t k = 0; k < results->size(); ++k) {
      const auto code = (*results)[k].status_code.code;
      if (code >> 30 >= 2) rejected.push_back(unresolved_sample(tags[item_tag[k]], code, ua::status::name(code)));
    }
    if (!publish(std::move(rejected))) return Status(uc::StatusCode::kCancelled, "stopping");
    return Status::ok();
  };
  // A new session takes over the subscription of the old one (same tags, same client
  // handles). False when the server refuses: the caller creates a new subscription.
  auto transfer = [&]() -> bool {
    auto tr = client.transfer_subscriptions({subscription_id}, true);
    if (!tr || tr->empty() || tr->front().status_code.is_bad()) {
      spdlog::info("source={} subscription {} not transferred ({}); creating a new one", name_, subscription_id,
                   tr ? (tr->empty() ? std::string("no result") : status_text(tr->front().status_code.code))
                      : tr.status().message());
      return false;
    }
    ++counters.subscription_transfers;
    just_transferred = true;
    acks.clear();
    // What the server still holds and we have had: acknowledge; newer ones come as a gap.
    for (std::uint32_t seq : tr->front().available_sequence_numbers) {
      if (seq <= last_sequence) acks.push_back({subscription_id, seq});
    }
    subscribed_mark = client.request_id_mark();
    return true;
  };
  // NotificationMessages from..to-1 did not arrive: ask for them again (at most 64).
  auto recover = [&](std::uint32_t from, std::uint32_t to) -> Status {
    std::uint64_t recovered = 0, lost = 0;
    std::string first_loss;
    for (std::uint32_t seq = from; seq < to; ++seq) {
      if (seq - from >= 64) {
        lost += to - seq;
        break;
      }
      auto again = client.republish(subscription_id, seq);
      if (again) {
        ++recovered;
        acks.push_back({subscription_id, seq});
        if (Status st = on_notification(*again); !st.is_ok()) return st;
        continue;
      }
      if (!client.connected()) return again.status();
      ++lost;
      if (first_loss.empty()) first_loss = again.status().message();
    }
    spdlog::info("source={} sequence gap {}..{}: {} notifications recovered with Republish, {} lost", name_, from,
                 to - 1, recovered, lost);
    if (lost > 0) {
      ctx.count_error("notifications " + std::to_string(from) + ".." + std::to_string(to - 1) + ": " +
                          std::to_string(lost) + " lost (" + first_loss + ")");
    }
    counters.notifications_republished += recovered;
    counters.notifications_lost += lost;
    return Status::ok();
  };

  // After a StatusChangeNotification (the data before it is published): the server that
  // takes a subscription over tells the subscription GoodSubscriptionTransferred, which is
  // news only when it was not us (node-opcua sends it to the new owner as well); a
  // lifetime that ran out (BadTimeout) or a transfer away leaves a new subscription to make.
  auto on_status_change = [&](std::uint32_t code) -> Status {
    if (code == ua::status::kGoodSubscriptionTransferred && just_transferred) {
      just_transferred = false;
      return Status::ok();
    }
    spdlog::warn("source={} subscription {} status changed: {}; creating a new one", name_, subscription_id,
                 status_text(code));
    ctx.count_error("subscription status changed: " + status_text(code));
    return subscribe_all();
  };

  // Until the first session the configured nodes stand for the source's tags (so failures
  // are reported per tag); discovered ones join once browsing worked.
  (void)resolve_tags(nullptr, tags);
  ctx.set_state(ComponentState::kConnecting);
  while (!stopping()) {
    if (!connected) {
      if (!ctx.wait_to_connect()) break;
      Status st = client.connect();
      bool resumed = false;
      if (st.is_ok() && client.has_session()) {
        // The old session may still live in the server, with its subscription.
        Status again = client.reactivate_session();
        if (again.is_ok()) {
          resumed = true;
          ++counters.session_reactivations;
        } else if (client.connected()) {
          spdlog::info("source={} session not re-activated ({}); creating a new one", name_, again.message());
        } else {
          st = again;
        }
      }
      if (st.is_ok() && !resumed) {
        st = client.open_session();
        tags_ready = false;
      }
      bool same_tags = false;
      if (st.is_ok() && !tags_ready) {  // a new session, or one that failed before its tags were resolved
        std::vector<Tag> fresh;
        st = resolve_tags(&client, fresh);
        if (st.is_ok()) {
          tags_ready = true;
          same_tags = fresh.size() == tags.size() &&
                      std::equal(fresh.begin(), fresh.end(), tags.begin(), [](const Tag& a, const Tag& b) {
                        return a.resolved == b.resolved && a.node == b.node;
                      });
          tags = std::move(fresh);
        }
      }
      if (st.is_ok() && subscribe) {
        if (resumed && subscription_id != 0 && subscription_ready) {
          subscribed_mark = client.request_id_mark();  // the subscription lives on with the session
        } else if (!(subscription_id != 0 && subscription_ready && same_tags && transfer())) {
          // A subscription left half made (monitored items not created) is dropped first.
          if (resumed && subscription_id != 0) (void)client.delete_subscriptions({subscription_id});
          st = subscribe_all();
        }
      }
      if (stopping()) break;
      if (!st.is_ok()) {
        if (!lose(st)) break;
        continue;
      }
      reads.clear();
      read_tag.clear();
      SampleBatch unresolved;
      for (std::size_t i = 0; i < tags.size(); ++i) {
        if (!tags[i].resolved) {
          unresolved.push_back(unresolved_sample(tags[i], tags[i].unresolved_code, tags[i].unresolved_reason));
          continue;
        }
        reads.push_back(ua::ReadValueId{tags[i].node, 13, std::nullopt, ua::QualifiedName{}});
        read_tag.push_back(i);
      }
      if (subscribe && !resumed && !publish(std::move(unresolved))) break;
      spdlog::info("source={} connected to {}: {} tags ({})", name_, options_.endpoint, tags.size(),
                   resumed ? "session re-activated" : "new session");
      connected = true;
      ctx.connected();
      next_poll = ctx.steady_us();
    }

    if (subscribe) {
      // Keep publish_target Publish requests outstanding; each answer carries the acks of
      // what arrived before it was sent.
      Status sent = Status::ok();
      while (sent.is_ok() && client.outstanding_publishes() < publish_target) {
        sent = client.send_publish(acks, publish_hint_ms);
        if (sent.is_ok()) acks.clear();
      }
      if (!sent.is_ok()) {
        if (!lose(sent)) break;
        continue;
      }
      auto resp = client.wait_publish(publish_wait_ms);
      counters.token_renewals = client.token_renewals();
      if (stopping()) break;
      if (!resp) {
        if (client.connected()) {
          // A ServiceFault on one Publish; the connection is fine.
          const std::uint32_t code = client.last_service_result();
          const bool stale = client.last_publish_request_id() < subscribed_mark;
          if (code == ua::status::kBadTimeout) continue;  // parked too long: sent again above
          if (code == ua::status::kBadTooManyPublishRequests) {
            if (publish_target > 1) --publish_target;
            continue;
          }
          if (code == ua::status::kBadNoSubscription || code == ua::status::kBadSubscriptionIdInvalid) {
            if (stale) continue;  // sent before the current subscription existed
            spdlog::warn("source={} subscription {} gone ({}); creating a new one", name_, subscription_id,
                         status_text(code));
            if (Status st = subscribe_all(); !st.is_ok()) {
              if (st.code() == uc::StatusCode::kCancelled || !lose(st)) break;
            }
            continue;
          }
          if (code == ua::status::kBadSessionIdInvalid || code == ua::status::kBadSessionClosed ||
              code == ua::status::kBadSessionNotActivated) {
            client.forget_session();
          }
        }
        if (!lose(resp.status())) break;
        continue;
      }
      const std::uint32_t sub_id = resp->subscription_id;
      const auto& msg = resp->notification_message;
      const bool keep_alive = msg.notification_data.empty();
      if (sub_id != subscription_id) {  // of a subscription no longer ours: acknowledge, drop
        if (!keep_alive) acks.push_back({sub_id, msg.sequence_number});
        continue;
      }
      // A keep-alive carries the number the next message will have; data its own.
      const std::uint32_t expected = last_sequence + 1;
      if (last_sequence != 0 && msg.sequence_number > expected) {
        if (Status st = recover(expected, msg.sequence_number); !st.is_ok()) {
          if (st.code() == uc::StatusCode::kCancelled || !lose(st)) break;
          continue;
        }
        last_sequence = msg.sequence_number - 1;
      }
      if (keep_alive) continue;
      acks.push_back({sub_id, msg.sequence_number});
      if (last_sequence != 0 && msg.sequence_number <= last_sequence) continue;  // had it already (Republish)
      last_sequence = msg.sequence_number;
      status_change = 0;
      Status st = on_notification(msg);
      if (st.is_ok() && status_change != 0) st = on_status_change(status_change);
      if (!st.is_ok()) {
        if (st.code() == uc::StatusCode::kCancelled) break;
        if (!lose(st)) break;
      }
      continue;
    }

    if (!ctx.wait_until(next_poll)) break;
    const std::int64_t interval = std::int64_t{options_.polling_interval_ms} * 1000;
    next_poll += interval;
    if (next_poll <= ctx.steady_us()) next_poll = ctx.steady_us() + interval;  // fell behind: no burst

    auto values = client.read(reads, ua::TimestampsToReturn::kBoth);
    counters.token_renewals = client.token_renewals();
    if (stopping()) break;
    if (!values) {
      if (!lose(values.status())) break;
      continue;
    }
    const TimestampUs now = ctx.clock().now_us();
    SampleBatch batch;
    batch.reserve(tags.size());
    std::size_t k = 0;
    for (std::size_t i = 0; i < tags.size(); ++i) {
      Tag& t = tags[i];
      if (!t.resolved) {
        batch.push_back(unresolved_sample(t, t.unresolved_code, t.unresolved_reason));
        continue;
      }
      batch.push_back(make_sample(t, (*values)[k++], now));
    }
    if (!publish(std::move(batch))) break;
  }
  // Leave the server tidy: delete the subscription and close the session, waiting briefly.
  client.resume();
  client.set_timeout_ms(std::min(options_.timeout_ms, 2000));
  if (client.connected() && client.has_session()) {
    if (subscription_id != 0) (void)client.delete_subscriptions({subscription_id});
    (void)client.close_session();
  }
  client.disconnect();
}

std::vector<pipeline::ExtraCounter> OpcuaSource::extra_counters() const {
  auto c = counters_;
  return {
      {"opcua_session_reactivations_total", "OPC UA sessions re-activated on a new connection.",
       [c] { return c->session_reactivations.load(); }},
      {"opcua_subscription_transfers_total", "OPC UA subscriptions taken over by a new session (TransferSubscriptions).",
       [c] { return c->subscription_transfers.load(); }},
      {"opcua_subscriptions_created_total", "OPC UA subscriptions created (the first and every re-creation).",
       [c] { return c->subscriptions_created.load(); }},
      {"opcua_notifications_republished_total", "OPC UA notification messages recovered with Republish after a gap.",
       [c] { return c->notifications_republished.load(); }},
      {"opcua_token_renewals_total", "OPC UA secure channel tokens renewed (OpenSecureChannel Renew).",
       [c] { return c->token_renewals.load(); }},
      {"opcua_notifications_lost_total", "OPC UA notification messages missing after a gap that Republish could not recover.",
       [c] { return c->notifications_lost.load(); }},
  };
}

}  // namespace uc::sources::opcua
