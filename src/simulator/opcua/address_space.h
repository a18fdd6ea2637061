// The OPC UA simulator's address space: the standard nodes a client looks for (Root,
// Objects, Server with NamespaceArray, ServerStatus and OperationLimits), a Demo folder
// with one variable of every common type (fixed, documented values and changing ones),
// and a plant tree of Site/Line/Equipment folders holding `variables` changing
// variables. The layout and every value are documented in docs/simulator-opcua.md.
//
// Values are functions of the update tick (now / update_ms), so a test can predict
// them; only the random walk keeps state. Not thread-safe: the server serialises access.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocols/opcua/generated/types.h"

namespace uc::simulator::opcua {

namespace ua = uc::opcua;

enum class Generator : std::uint8_t {
  kConstant, kSine, kRamp, kRandomWalk, kStep, kCounter, kToggle, kText, kStatusCycle, kClock,
};

struct Reference {
  std::uint32_t type = 0;  // a ns=0 reference type id
  bool forward = true;
  ua::NodeId target;
};

struct Node {
  ua::NodeId id;
  ua::NodeClass node_class = ua::NodeClass::kObject;
  ua::QualifiedName browse_name;
  ua::LocalizedText display_name;
  std::vector<Reference> refs;
  // Variables only.
  ua::NodeId data_type;
  std::int32_t value_rank = -1;  // -1 scalar, 1 array
  ua::DataValue value;
  Generator generator = Generator::kConstant;
  std::uint32_t phase = 0;
  double walk = 0;            // random-walk state
  std::uint64_t version = 0;  // bumped on every change of value or status
};

struct AddressSpaceOptions {
  int variables = 200;     // changing plant variables, besides the Demo folder
  int update_ms = 1000;    // how often the changing variables change
  std::string namespace_uri = "urn:unified-connector:simulator";
  // Advertised in Server/ServerCapabilities/OperationLimits and enforced by the server.
  std::uint32_t max_nodes_per_read = 1000;
  std::uint32_t max_nodes_per_browse = 1000;
  std::uint32_t max_monitored_items_per_call = 1000;
};

class AddressSpace {
 public:
  explicit AddressSpace(const AddressSpaceOptions& options, std::int64_t now_us);

  const Node* find(const ua::NodeId& id) const;
  // Recomputes every changing variable for time `now_us`; returns how many changed.
  std::size_t update(std::int64_t now_us);
  // The value of one attribute, with the status a Read should return for it.
  ua::DataValue read(const ua::NodeId& id, std::uint32_t attribute_id) const;

  const std::vector<std::string>& namespaces() const { return namespaces_; }
  const AddressSpaceOptions& options() const { return options_; }
  std::size_t node_count() const { return nodes_.size(); }
  std::size_t plant_variable_count() const { return plant_variables_; }

 private:
  Node& add(Node n, const ua::NodeId& parent, std::uint32_t ref_type, std::uint32_t type_definition);
  Node& folder(const std::string& sid, const std::string& name, const ua::NodeId& parent,
               std::uint32_t ref_type = 35);
  Node& variable(const std::string& sid, const std::string& name, const ua::NodeId& parent, std::uint32_t data_type,
                 ua::Variant value, Generator gen = Generator::kConstant, std::uint32_t phase = 0);
  void compute(Node& n, std::int64_t tick, std::int64_t now_us);

  AddressSpaceOptions options_;
  std::vector<std::string> namespaces_;
  std::unordered_map<std::string, Node> nodes_;  // by ua::to_string(NodeId)
  std::vector<Node*> changing_;
  std::size_t plant_variables_ = 0;
  std::int64_t last_tick_ = -1;
  std::int64_t start_us_ = 0;
};

// Attribute ids (OPC 10000-6 A.1) used by the server.
namespace attr {
inline constexpr std::uint32_t kNodeId = 1, kNodeClass = 2, kBrowseName = 3, kDisplayName = 4, kDescription = 5,
                               kWriteMask = 6, kUserWriteMask = 7, kEventNotifier = 12, kValue = 13, kDataType = 14,
                               kValueRank = 15, kArrayDimensions = 16, kAccessLevel = 17, kUserAccessLevel = 18,
                               kMinimumSamplingInterval = 19, kHistorizing = 20;
}

// Whether reference type `type` is `base` or one of its subtypes (for the standard
// hierarchy of the reference types this address space uses).
bool is_subtype_of(std::uint32_t type, std::uint32_t base);

}  // namespace uc::simulator::opcua
