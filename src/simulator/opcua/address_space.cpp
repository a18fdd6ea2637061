#include "simulator/opcua/address_space.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "protocols/opcua/generated/node_ids.h"
#include "protocols/opcua/generated/status_codes.h"

namespace uc::simulator::opcua {
namespace {

namespace ids = ua::ids;
namespace st = ua::status;

constexpr std::uint16_t kNs = 1;

ua::NodeId sid(const std::string& s) { return {kNs, s}; }
ua::NodeId nid(std::uint32_t i) { return ua::NodeId(i); }
std::string key(const ua::NodeId& id) { return ua::to_string(id); }

// A changing value as the variable's data type.
ua::Variant typed(std::uint32_t data_type, double v) {
  switch (data_type) {
    case ids::kBoolean: return ua::Variant::scalar(v != 0.0);
    case ids::kSByte: return ua::Variant::scalar(static_cast<std::int8_t>(std::fmod(v, 128.0)));
    case ids::kByte: return ua::Variant::scalar(static_cast<std::uint8_t>(std::fmod(v, 256.0)));
    case ids::kInt16: return ua::Variant::scalar(static_cast<std::int16_t>(std::fmod(v, 32768.0)));
    case ids::kUInt16: return ua::Variant::scalar(static_cast<std::uint16_t>(std::fmod(v, 65536.0)));
    case ids::kInt32: return ua::Variant::scalar(static_cast<std::int32_t>(v));
    case ids::kUInt32: return ua::Variant::scalar(static_cast<std::uint32_t>(v));
    case ids::kInt64: return ua::Variant::scalar(static_cast<std::int64_t>(v));
    case ids::kUInt64: return ua::Variant::scalar(static_cast<std::uint64_t>(v));
    case ids::kFloat: return ua::Variant::scalar(static_cast<float>(v));
    default: return ua::Variant::scalar(v);
  }
}

// Deterministic noise in [-1, 1] for tick k of variable `salt` (splitmix64).
double noise(std::int64_t k, std::uint32_t salt) {
  std::uint64_t z = static_cast<std::uint64_t>(k) * 0x9E3779B97F4A7C15ULL + salt;
  z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
  z ^= z >> 31U;
  return static_cast<double>(z % 2001U) / 1000.0 - 1.0;
}

constexpr const char* kStates[] = {"idle", "running", "stopped", "fault"};

struct PlantVariable {
  const char* name;
  std::uint32_t data_type;
  Generator generator;
};
constexpr PlantVariable kPlantVariables[] = {
    {"Temperature", ids::kDouble, Generator::kSine},   {"Pressure", ids::kFloat, Generator::kRandomWalk},
    {"Speed", ids::kDouble, Generator::kRamp},         {"Level", ids::kDouble, Generator::kStep},
    {"Count", ids::kUInt32, Generator::kCounter},      {"Running", ids::kBoolean, Generator::kToggle},
    {"State", ids::kString, Generator::kText},         {"Energy", ids::kInt64, Generator::kCounter},
    {"AlarmCode", ids::kInt16, Generator::kStep},      {"Setpoint", ids::kUInt16, Generator::kRamp},
};
constexpr const char* kEquipment[] = {"Mixer", "Pump", "Oven", "Conveyor", "Filler",
                                      "Press", "Boiler", "Chiller", "Robot", "Tank"};

}  // namespace

bool is_subtype_of(std::uint32_t type, std::uint32_t base) {
  for (;;) {
    if (type == base) return true;
    switch (type) {
      case ids::kHierarchicalReferences:
      case ids::kNonHierarchicalReferences: type = ids::kReferences; break;
      case ids::kHasChild:
      case ids::kOrganizes: type = ids::kHierarchicalReferences; break;
      case ids::kAggregates:
      case ids::kHasSubtype: type = ids::kHasChild; break;
      case ids::kHasComponent:
      case ids::kHasProperty: type = ids::kAggregates; break;
      case ids::kHasTypeDefinition: type = ids::kNonHierarchicalReferences; break;
      default: return false;
    }
  }
}

Node& AddressSpace::add(Node n, const ua::NodeId& parent, std::uint32_t ref_type, std::uint32_t type_definition) {
  if (!parent.is_null()) {
    n.refs.push_back({ref_type, false, parent});
    nodes_.at(key(parent)).refs.push_back({ref_type, true, n.id});
  }
  if (type_definition != 0) n.refs.push_back({ids::kHasTypeDefinition, true, nid(type_definition)});
  const std::string k = key(n.id);
  return nodes_.insert_or_assign(k, std::move(n)).first->second;
}

Node& AddressSpace::folder(const std::string& s, const std::string& name, const ua::NodeId& parent,
                           std::uint32_t ref_type) {
  Node n;
  n.id = sid(s);
  n.node_class = ua::NodeClass::kObject;
  n.browse_name = {kNs, name};
  n.display_name = {std::string(), name};
  return add(std::move(n), parent, ref_type, ids::kFolderType);
}

Node& AddressSpace::variable(const std::string& s, const std::string& name, const ua::NodeId& parent,
                             std::uint32_t data_type, ua::Variant value, Generator gen, std::uint32_t phase) {
  Node n;
  n.id = sid(s);
  n.node_class = ua::NodeClass::kVariable;
  n.browse_name = {kNs, name};
  n.display_name = {std::string(), name};
  n.data_type = nid(data_type);
  n.value_rank = value.is_array ? 1 : -1;
  n.value.value = std::move(value);
  n.value.source_timestamp = ua::datetime_from_unix_us(start_us_);
  n.generator = gen;
  n.phase = phase;
  n.walk = 50;
  Node& out = add(std::move(n), parent, ids::kHasComponent, ids::kBaseDataVariableType);
  if (gen != Generator::kConstant) changing_.push_back(&out);
  return out;
}

AddressSpace::AddressSpace(const AddressSpaceOptions& options, std::int64_t now_us)
    : options_(options), namespaces_{"http://opcfoundation.org/UA/", options.namespace_uri}, start_us_(now_us) {
  options_.update_ms = std::max(options_.update_ms, 10);
  nodes_.reserve(static_cast<std::size_t>(options_.variables) * 11 / 10 + 200);
  auto standard = [&](std::uint32_t id, const char* name, const ua::NodeId& parent, std::uint32_t ref,
                      std::uint32_t type_def, ua::NodeClass cls = ua::NodeClass::kObject) -> Node& {
    Node n;
    n.id = nid(id);
    n.node_class = cls;
    n.browse_name = {0, std::string(name)};
    n.display_name = {std::string(), std::string(name)};
    return add(std::move(n), parent, ref, type_def);
  };
  auto standard_var = [&](std::uint32_t id, const char* name, const ua::NodeId& parent, std::uint32_t data_type,
                          ua::Variant v, std::uint32_t ref = ids::kHasProperty) -> Node& {
    Node& n = standard(id, name, parent, ref, ref == ids::kHasProperty ? ids::kPropertyType : ids::kBaseDataVariableType,
                       ua::NodeClass::kVariable);
    n.data_type = nid(data_type);
    n.value_rank = v.is_array ? 1 : -1;
    n.value.value = std::move(v);
    return n;
  };
  standard(ids::kRootFolder, "Root", {}, 0, ids::kFolderType);
  standard(ids::kObjectsFolder, "Objects", nid(ids::kRootFolder), ids::kOrganizes, ids::kFolderType);
  standard(ids::kTypesFolder, "Types", nid(ids::kRootFolder), ids::kOrganizes, ids::kFolderType);
  standard(ids::kViewsFolder, "Views", nid(ids::kRootFolder), ids::kOrganizes, ids::kFolderType);
  standard(ids::kServer, "Server", nid(ids::kObjectsFolder), ids::kOrganizes, ids::kServerType);
  std::vector<ua::String> ns_array(namespaces_.begin(), namespaces_.end());
  standard_var(ids::kServer_NamespaceArray, "NamespaceArray", nid(ids::kServer), ids::kString,
               ua::Variant::array(ns_array));
  standard_var(ids::kServer_ServerArray, "ServerArray", nid(ids::kServer), ids::kString,
               ua::Variant::array(std::vector<ua::String>{options_.namespace_uri}));
  ua::ServerStatusDataType status;
  status.start_time = ua::datetime_from_unix_us(now_us);
  status.current_time = status.start_time;
  status.state = ua::ServerState::kRunning;
  status.build_info.product_uri = "urn:unified-connector";
  status.build_info.manufacturer_name = "unified-connector";
  status.build_info.product_name = "unified-connector OPC UA simulator";
  status.build_info.software_version = "0.1.0";
  status.build_info.build_number = "0";
  Node& server_status = standard_var(ids::kServer_ServerStatus, "ServerStatus", nid(ids::kServer),
                                     ids::kServerStatusDataType,
                                     ua::Variant::scalar(ua::make_extension(status)), ids::kHasComponent);
  server_status.generator = Generator::kClock;  // current_time kept fresh in update()
  changing_.push_back(&server_status);
  standard_var(ids::kServer_ServerStatus_StartTime, "StartTime", nid(ids::kServer_ServerStatus), ids::kDateTime,
               ua::Variant::scalar(status.start_time), ids::kHasComponent);
  Node& current = standard_var(ids::kServer_ServerStatus_CurrentTime, "CurrentTime", nid(ids::kServer_ServerStatus),
                               ids::kDateTime, ua::Variant::scalar(status.current_time), ids::kHasComponent);
  current.generator = Generator::kClock;
  changing_.push_back(&current);
  standard_var(ids::kServer_ServerStatus_State, "State", nid(ids::kServer_ServerStatus), ids::kServerState,
               ua::Variant::scalar(std::int32_t{0}), ids::kHasComponent);
  standard(ids::kServer_ServerCapabilities, "ServerCapabilities", nid(ids::kServer), ids::kHasComponent,
           ids::kServerCapabilitiesType);
  standard(ids::kServer_ServerCapabilities_OperationLimits, "OperationLimits", nid(ids::kServer_ServerCapabilities),
           ids::kHasComponent, ids::kOperationLimitsType);
  const ua::NodeId limits = nid(ids::kServer_ServerCapabilities_OperationLimits);
  standard_var(ids::kServer_ServerCapabilities_OperationLimits_MaxNodesPerRead, "MaxNodesPerRead", limits, ids::kUInt32,
               ua::Variant::scalar(options_.max_nodes_per_read));
  standard_var(ids::kServer_ServerCapabilities_OperationLimits_MaxNodesPerBrowse, "MaxNodesPerBrowse", limits,
               ids::kUInt32, ua::Variant::scalar(options_.max_nodes_per_browse));
  standard_var(ids::kServer_ServerCapabilities_OperationLimits_MaxNodesPerTranslateBrowsePathsToNodeIds,
               "MaxNodesPerTranslateBrowsePathsToNodeIds", limits, ids::kUInt32,
               ua::Variant::scalar(options_.max_nodes_per_browse));
  standard_var(ids::kServer_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall, "MaxMonitoredItemsPerCall",
               limits, ids::kUInt32, ua::Variant::scalar(options_.max_monitored_items_per_call));

  // Demo: every common type, fixed values first (docs/simulator-opcua.md lists them).
  const ua::NodeId objects = nid(ids::kObjectsFolder);
  folder("Demo", "Demo", objects, ids::kOrganizes);
  folder("Demo.Static", "Static", sid("Demo"));
  const ua::NodeId fixed = sid("Demo.Static");
  variable("Demo.Static.Boolean", "Boolean", fixed, ids::kBoolean, ua::Variant::scalar(true));
  variable("Demo.Static.SByte", "SByte", fixed, ids::kSByte, ua::Variant::scalar(std::int8_t{-100}));
  variable("Demo.Static.Byte", "Byte", fixed, ids::kByte, ua::Variant::scalar(std::uint8_t{200}));
  variable("Demo.Static.Int16", "Int16", fixed, ids::kInt16, ua::Variant::scalar(std::int16_t{-30000}));
  variable("Demo.Static.UInt16", "UInt16", fixed, ids::kUInt16, ua::Variant::scalar(std::uint16_t{60000}));
  variable("Demo.Static.Int32", "Int32", fixed, ids::kInt32, ua::Variant::scalar(std::int32_t{-2000000000}));
  variable("Demo.Static.UInt32", "UInt32", fixed, ids::kUInt32, ua::Variant::scalar(std::uint32_t{4000000000U}));
  variable("Demo.Static.Int64", "Int64", fixed, ids::kInt64,
           ua::Variant::scalar(std::int64_t{-9000000000000000001LL}));
  variable("Demo.Static.UInt64", "UInt64", fixed, ids::kUInt64,
           ua::Variant::scalar(std::uint64_t{18000000000000000001ULL}));
  variable("Demo.Static.Float", "Float", fixed, ids::kFloat, ua::Variant::scalar(3.25F));
  variable("Demo.Static.Double", "Double", fixed, ids::kDouble, ua::Variant::scalar(-1234.5678));
  variable("Demo.Static.String", "String", fixed, ids::kString, ua::Variant::scalar(ua::String("Grüße, Welt")));
  // 2024-01-02T03:04:05.678Z
  variable("Demo.Static.DateTime", "DateTime", fixed, ids::kDateTime,
           ua::Variant::scalar(ua::datetime_from_unix_us(1704164645678000LL)));
  variable("Demo.Static.ByteString", "ByteString", fixed, ids::kByteString,
           ua::Variant::scalar(ua::ByteString{std::string("\x00\x01\xFE\xFF", 4)}));
  variable("Demo.Static.DoubleArray", "DoubleArray", fixed, ids::kDouble,
           ua::Variant::array(std::vector<double>{1.5, -2.5, 3.5}));
  variable("Demo.Static.Int32Array", "Int32Array", fixed, ids::kInt32,
           ua::Variant::array(std::vector<std::int32_t>{1, -2, 3}));
  variable("Demo.Static.StringArray", "StringArray", fixed, ids::kString,
           ua::Variant::array(std::vector<ua::String>{ua::String("a"), ua::String("b")}));
  folder("Demo.Dynamic", "Dynamic", sid("Demo"));
  const ua::NodeId dyn = sid("Demo.Dynamic");
  variable("Demo.Dynamic.Sine", "Sine", dyn, ids::kDouble, ua::Variant::scalar(0.0), Generator::kSine);
  variable("Demo.Dynamic.Ramp", "Ramp", dyn, ids::kInt32, ua::Variant::scalar(std::int32_t{0}), Generator::kRamp);
  variable("Demo.Dynamic.Counter", "Counter", dyn, ids::kUInt64, ua::Variant::scalar(std::uint64_t{0}),
           Generator::kCounter);
  variable("Demo.Dynamic.Toggle", "Toggle", dyn, ids::kBoolean, ua::Variant::scalar(false), Generator::kToggle);
  variable("Demo.Dynamic.RandomWalk", "RandomWalk", dyn, ids::kDouble, ua::Variant::scalar(50.0),
           Generator::kRandomWalk);
  variable("Demo.Dynamic.Step", "Step", dyn, ids::kFloat, ua::Variant::scalar(0.0F), Generator::kStep);
  variable("Demo.Dynamic.Text", "Text", dyn, ids::kString, ua::Variant::scalar(ua::String("idle")), Generator::kText);
  variable("Demo.Dynamic.Status", "Status", dyn, ids::kDouble, ua::Variant::scalar(0.0), Generator::kStatusCycle);
  variable("Demo.Dynamic.Time", "Time", dyn, ids::kDateTime, ua::Variant::scalar(ua::DateTime{}), Generator::kClock);

  // Plant: Site/Line/Equipment, ten variables per equipment, ten equipment per line,
  // ten lines per site.
  folder("Plant", "Plant", objects, ids::kOrganizes);
  const int n = std::clamp(options_.variables, 0, 1'000'000);
  std::string site_id, line_id, eq_id;
  for (int i = 0; i < n; ++i) {
    const int eq = i / 10, line = eq / 10, site = line / 10;
    if (i % 1000 == 0) {
      site_id = "Plant.Site" + std::to_string(site + 1);
      folder(site_id, "Site" + std::to_string(site + 1), sid("Plant"));
    }
    if (i % 100 == 0) {
      line_id = site_id + ".Line" + std::to_string(line % 10 + 1);
      folder(line_id, "Line" + std::to_string(line % 10 + 1), sid(site_id));
    }
    if (i % 10 == 0) {
      const std::string name = std::string(kEquipment[eq % 10]) + std::to_string(line % 10 + 1);
      eq_id = line_id + "." + name;
      folder(eq_id, name, sid(line_id), ids::kOrganizes);
    }
    const PlantVariable& pv = kPlantVariables[i % 10];
    variable(eq_id + "." + pv.name, pv.name, sid(eq_id), pv.data_type,
             pv.data_type == ids::kString ? ua::Variant::scalar(ua::String("idle")) : typed(pv.data_type, 0),
             pv.generator, static_cast<std::uint32_t>((i * 7) % 60));
  }
  plant_variables_ = static_cast<std::size_t>(n);
  update(now_us);
}

const Node* AddressSpace::find(const ua::NodeId& id) const {
  const auto it = nodes_.find(key(id));
  return it == nodes_.end() ? nullptr : &it->second;
}

void AddressSpace::compute(Node& n, std::int64_t k, std::int64_t now_us) {
  const double p = n.phase;
  const std::int64_t k0 = start_us_ / 1000 / options_.update_ms;
  const std::uint32_t type = n.data_type.id.index() == 0 ? std::get<0>(n.data_type.id) : 0;
  ua::Variant v;
  std::optional<ua::StatusCode> status;
  switch (n.generator) {
    case Generator::kConstant: return;
    case Generator::kSine:
      v = typed(type, 50.0 + 25.0 * std::sin(2.0 * std::numbers::pi * (static_cast<double>(k) + p) / 60.0));
      break;
    case Generator::kRamp: v = typed(type, static_cast<double>((k + n.phase) % 100)); break;
    case Generator::kRandomWalk:
      n.walk = std::clamp(n.walk + noise(k, n.phase + static_cast<std::uint32_t>(n.browse_name.name->size())), 0.0,
                          100.0);
      v = typed(type, n.walk);
      break;
    case Generator::kStep: v = typed(type, static_cast<double>(((k + n.phase) / 10) % 5 * 10)); break;
    case Generator::kCounter: v = typed(type, static_cast<double>(k - k0 + n.phase)); break;
    case Generator::kToggle: v = typed(type, static_cast<double>(((k + n.phase) / 5) % 2 == 0)); break;
    case Generator::kText: v = ua::Variant::scalar(ua::String(kStates[((k + n.phase) / 10) % 4])); break;
    case Generator::kStatusCycle: {
      v = typed(type, static_cast<double>(k - k0));
      static constexpr std::uint32_t kCycle[] = {st::kGood, st::kUncertainLastUsableValue, st::kBadSensorFailure};
      const std::uint32_t code = kCycle[((k - k0) / 5) % 3];
      if (code != st::kGood) status = ua::StatusCode{code};
      break;
    }
    case Generator::kClock:
      if (n.id == nid(ids::kServer_ServerStatus)) {
        ua::ServerStatusDataType s;
        std::string err;
        const auto& eo = std::get<ua::ExtensionObject>(n.value.value->values.front());
        if (ua::decode_extension(eo, s, ua::Limits{}, &err)) {
          s.current_time = ua::datetime_from_unix_us(now_us);
          v = ua::Variant::scalar(ua::make_extension(s));
        }
      } else {
        v = ua::Variant::scalar(ua::datetime_from_unix_us(k * options_.update_ms * 1000));
      }
      break;
  }
  if (n.value.value == v && n.value.status == status) return;
  n.value.value = std::move(v);
  n.value.status = status;
  n.value.source_timestamp = ua::datetime_from_unix_us(k * options_.update_ms * 1000);
  ++n.version;
}

std::size_t AddressSpace::update(std::int64_t now_us) {
  const std::int64_t k = now_us / 1000 / options_.update_ms;
  if (k == last_tick_) return 0;
  last_tick_ = k;
  std::size_t changed = 0;
  for (Node* n : changing_) {
    const std::uint64_t before = n->version;
    compute(*n, k, now_us);
    changed += n->version != before ? 1 : 0;
  }
  return changed;
}

ua::DataValue AddressSpace::read(const ua::NodeId& id, std::uint32_t attribute_id) const {
  ua::DataValue out;
  const Node* n = find(id);
  if (n == nullptr) {
    out.status = ua::StatusCode{st::kBadNodeIdUnknown};
    return out;
  }
  const bool var = n->node_class == ua::NodeClass::kVariable;
  switch (attribute_id) {
    case attr::kNodeId: out.value = ua::Variant::scalar(n->id); break;
    case attr::kNodeClass: out.value = ua::Variant::scalar(static_cast<std::int32_t>(n->node_class)); break;
    case attr::kBrowseName: out.value = ua::Variant::scalar(n->browse_name); break;
    case attr::kDisplayName: out.value = ua::Variant::scalar(n->display_name); break;
    case attr::kDescription: out.value = ua::Variant::scalar(ua::LocalizedText{}); break;
    case attr::kWriteMask:
    case attr::kUserWriteMask: out.value = ua::Variant::scalar(std::uint32_t{0}); break;
    case attr::kEventNotifier:
      if (var) out.status = ua::StatusCode{st::kBadAttributeIdInvalid};
      else out.value = ua::Variant::scalar(std::uint8_t{0});
      break;
    case attr::kValue:
      if (!var) {
        out.status = ua::StatusCode{st::kBadAttributeIdInvalid};
        break;
      }
      out = n->value;
      break;
    case attr::kDataType:
    case attr::kValueRank:
    case attr::kArrayDimensions:
    case attr::kAccessLevel:
    case attr::kUserAccessLevel:
    case attr::kMinimumSamplingInterval:
    case attr::kHistorizing:
      if (!var) {
        out.status = ua::StatusCode{st::kBadAttributeIdInvalid};
        break;
      }
      if (attribute_id == attr::kDataType) out.value = ua::Variant::scalar(n->data_type);
      if (attribute_id == attr::kValueRank) out.value = ua::Variant::scalar(n->value_rank);
      if (attribute_id == attr::kArrayDimensions) {
        out.value = n->value_rank == 1 ? ua::Variant::array(std::vector<std::uint32_t>{0})
                                       : ua::Variant::array(std::vector<std::uint32_t>{});
      }
      if (attribute_id == attr::kAccessLevel || attribute_id == attr::kUserAccessLevel) {
        out.value = ua::Variant::scalar(std::uint8_t{1});  // CurrentRead
      }
      if (attribute_id == attr::kMinimumSamplingInterval) {
        out.value = ua::Variant::scalar(static_cast<double>(options_.update_ms));
      }
      if (attribute_id == attr::kHistorizing) out.value = ua::Variant::scalar(false);
      break;
    default: out.status = ua::StatusCode{st::kBadAttributeIdInvalid};
  }
  return out;
}

}  // namespace uc::simulator::opcua
