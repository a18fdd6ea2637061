#include "app/browse_command.h"

#include <nlohmann/json.hpp>

#include <iostream>
#include <set>

#include "app/commands.h"
#include "clients/opcua/client.h"

namespace uc::app {
namespace {

namespace ua = uc::opcua;
using clients::opcua::Client;

const char* node_class_name(ua::NodeClass c) {
  switch (c) {
    case ua::NodeClass::kObject: return "Object";
    case ua::NodeClass::kVariable: return "Variable";
    case ua::NodeClass::kMethod: return "Method";
    case ua::NodeClass::kObjectType: return "ObjectType";
    case ua::NodeClass::kVariableType: return "VariableType";
    case ua::NodeClass::kReferenceType: return "ReferenceType";
    case ua::NodeClass::kDataType: return "DataType";
    case ua::NodeClass::kView: return "View";
    default: return "Unspecified";
  }
}

std::string data_type_name(const ua::NodeId& id) {
  if (id.ns == 0 && id.id.index() == 0) {
    auto n = std::get<0>(id.id);
    if (n >= 1 && n <= 25) return ua::builtin_type_name(static_cast<ua::BuiltinType>(n));
  }
  return ua::to_string(id);
}

std::string qualified(const ua::QualifiedName& q) {
  std::string name = q.name.value_or("");
  return q.ns == 0 ? name : std::to_string(q.ns) + ":" + name;
}

struct Node {
  ua::NodeId id;
  std::string browse_name, path;
  ua::NodeClass node_class = ua::NodeClass::kUnspecified;
  std::string data_type;
  int depth = 0;
};

class Walker {
 public:
  Walker(Client& client, const BrowseCommandOptions& o) : client_(client), o_(o) {}

  Status walk(const ua::NodeId& root) {
    return visit(root, "", 0);
  }
  const std::vector<Node>& nodes() const { return nodes_; }
  bool truncated() const { return truncated_; }

 private:
  Status visit(const ua::NodeId& id, const std::string& path, int depth) {
    if (depth >= o_.max_depth) return Status::ok();
    auto refs = client_.browse_all(id, ua::BrowseDirection::kForward, o_.max_references);
    if (!refs) return refs.status();
    std::vector<Node> children;
    for (const auto& r : *refs) {
      if (r.node_id.server_index != 0 || r.node_id.namespace_uri) continue;  // other servers
      if (!seen_.insert(ua::to_string(r.node_id.node_id)).second) continue;
      if (static_cast<int>(nodes_.size() + children.size()) >= o_.max_nodes) {
        truncated_ = true;
        break;
      }
      Node n;
      n.id = r.node_id.node_id;
      n.browse_name = qualified(r.browse_name);
      n.path = path.empty() ? n.browse_name : path + "/" + n.browse_name;
      n.node_class = r.node_class;
      n.depth = depth;
      children.push_back(std::move(n));
    }
    // Data types of the variables in one Read (split by the client per MaxNodesPerRead).
    std::vector<ua::ReadValueId> reads;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < children.size(); ++i) {
      if (children[i].node_class != ua::NodeClass::kVariable) continue;
      reads.push_back(ua::ReadValueId{children[i].id, 14, std::nullopt, ua::QualifiedName{}});
      which.push_back(i);
    }
    if (!reads.empty()) {
      auto values = client_.read(reads, ua::TimestampsToReturn::kNeither);
      if (!values) return values.status();
      for (std::size_t k = 0; k < which.size(); ++k) {
        const auto& v = (*values)[k];
        if (v.value && !v.value->is_array && !v.value->values.empty()) {
          if (const auto* dt = std::get_if<ua::NodeId>(&v.value->values.front())) {
            children[which[k]].data_type = data_type_name(*dt);
          }
        }
      }
    }
    for (auto& c : children) {
      nodes_.push_back(c);
      if (c.node_class == ua::NodeClass::kObject || c.node_class == ua::NodeClass::kVariable) {
        if (auto s = visit(c.id, c.path, depth + 1); !s.is_ok()) return s;
      }
      if (truncated_) break;
    }
    return Status::ok();
  }

  Client& client_;
  const BrowseCommandOptions& o_;
  std::vector<Node> nodes_;
  std::set<std::string> seen_;
  bool truncated_ = false;
};

const char* mode_name(ua::MessageSecurityMode m) {
  switch (m) {
    case ua::MessageSecurityMode::kNone: return "None";
    case ua::MessageSecurityMode::kSign: return "Sign";
    case ua::MessageSecurityMode::kSignAndEncrypt: return "SignAndEncrypt";
    default: return "Invalid";
  }
}

}  // namespace

int cmd_browse(const BrowseCommandOptions& o) {
  ua::NodeId root;
  if (!ua::parse_node_id(o.root, root)) {
    std::cerr << "browse: bad root node id \"" << o.root << "\"\n";
    return kExitUsage;
  }
  clients::opcua::ClientOptions co;
  co.endpoint_url = o.endpoint;
  co.timeout_ms = o.timeout_ms;
  co.session_name = "unified-connector browse";
  Client client(co);
  auto fail = [&](const Status& s) {
    std::cerr << "browse " << o.endpoint << ": " << s.message() << "\n";
    client.disconnect();
    return kExitFailure;
  };
  if (auto s = client.connect(); !s.is_ok()) return fail(s);
  if (o.endpoints) {
    auto servers = client.find_servers();
    if (!servers) return fail(servers.status());
    auto eps = client.get_endpoints();
    if (!eps) return fail(eps.status());
    for (const auto& a : *servers) {
      if (o.json) {
        std::cout << nlohmann::json{{"server", a.application_uri.value_or("")},
                                    {"name", a.application_name.text.value_or("")}}
                         .dump()
                  << "\n";
      } else {
        std::cout << "server " << a.application_uri.value_or("") << " \"" << a.application_name.text.value_or("")
                  << "\"\n";
      }
    }
    for (const auto& e : *eps) {
      std::vector<std::string> tokens;
      for (const auto& t : e.user_identity_tokens) {
        static const char* kTypes[] = {"Anonymous", "UserName", "Certificate", "IssuedToken"};
        auto ti = static_cast<std::size_t>(t.token_type);
        tokens.emplace_back(ti < 4 ? kTypes[ti] : "Unknown");
      }
      if (o.json) {
        std::cout << nlohmann::json{{"endpoint", e.endpoint_url.value_or("")},
                                    {"security_mode", mode_name(e.security_mode)},
                                    {"security_policy", e.security_policy_uri.value_or("")},
                                    {"user_tokens", tokens}}
                         .dump()
                  << "\n";
      } else {
        std::cout << "endpoint " << e.endpoint_url.value_or("") << " " << mode_name(e.security_mode) << " "
                  << e.security_policy_uri.value_or("");
        for (const auto& t : tokens) std::cout << " " << t;
        std::cout << "\n";
      }
    }
  }
  if (auto s = client.open_session(); !s.is_ok()) return fail(s);
  Walker walker(client, o);
  if (auto s = walker.walk(root); !s.is_ok()) return fail(s);
  for (const auto& n : walker.nodes()) {
    if (o.json) {
      nlohmann::json j{{"node_id", ua::to_string(n.id)}, {"browse_name", n.browse_name}, {"path", n.path},
                       {"node_class", node_class_name(n.node_class)}, {"depth", n.depth}};
      if (!n.data_type.empty()) j["data_type"] = n.data_type;
      std::cout << j.dump() << "\n";
    } else {
      std::cout << std::string(static_cast<std::size_t>(n.depth) * 2, ' ') << n.browse_name << "  ("
                << ua::to_string(n.id) << ")  " << node_class_name(n.node_class);
      if (!n.data_type.empty()) std::cout << "  " << n.data_type;
      std::cout << "\n";
    }
  }
  if (walker.truncated()) std::cerr << "browse: stopped at --max-nodes " << o.max_nodes << "\n";
  (void)client.close_session();
  client.disconnect();
  return kExitOk;
}

}  // namespace uc::app
