// unified-connector: one binary, subcommands (SPEC §1). Exit codes: 0 ok,
// 1 runtime failure, 2 bad config or usage.
#include <CLI/CLI.hpp>

#include <iostream>

#include "app/browse_command.h"
#include "app/commands.h"
#include "app/creds_command.h"
#include "app/simulate_command.h"
#include "app/dlq_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Unified OT/IoT Connector: OPC UA, MQTT/Sparkplug B and Modbus into Databricks", "unified-connector"};
  app.require_subcommand(1);
  app.fallthrough(false);

  std::string config_path;
  auto* run = app.add_subcommand("run", "Run the connector: sources -> normalize -> buffer -> sinks, plus the API");
  run->add_option("-c,--config", config_path, "configuration file")->required();

  auto* validate = app.add_subcommand("validate", "Check a configuration file; print every error, exit 2 if any");
  validate->add_option("-c,--config", config_path, "configuration file")->required();

  std::string source_name;
  int read_count = 1;
  int read_timeout_ms = 10000;
  auto* read = app.add_subcommand("read", "One-shot read of one source: print normalized records as JSON Lines");
  read->add_option("-c,--config", config_path, "configuration file")->required();
  read->add_option("-s,--source", source_name, "source name")->required();
  read->add_option("-n,--batches", read_count, "how many batches to read (default 1)")->check(CLI::Range(1, 1000000));
  read->add_option("-t,--timeout-ms", read_timeout_ms, "give up after this long")->check(CLI::Range(1, 3600000));
  bool read_all_orders = false;
  read->add_flag("--all-orders", read_all_orders,
                 "Modbus: print each numeric tag decoded in ABCD, CDAB, BADC and DCBA side by side");

  bool sql = false;
  bool proto = false;
  std::string table = "ot_bronze";
  auto* schema = app.add_subcommand("schema", "Print the record schema: Delta DDL (--sql, default) or proto (--proto)");
  auto* sql_flag = schema->add_flag("--sql", sql, "CREATE TABLE statement");
  schema->add_flag("--proto", proto, "protobuf schema")->excludes(sql_flag);
  schema->add_option("--table", table, "table name for --sql (catalog.schema.table)");

  std::string dlq_target;
  int dlq_limit = 100;
  auto* dlq = app.add_subcommand("dlq", "Dead-letter queues: list, replay (into the spool) or purge");
  dlq->require_subcommand(1);
  std::string dlq_action;
  for (const char* action : {"list", "replay", "purge"}) {
    auto* sub = dlq->add_subcommand(action, std::string(action) + " dead-lettered records");
    sub->add_option("-c,--config", config_path, "configuration file")->required();
    sub->add_option("-t,--target", dlq_target, "one target (table) only");
    if (std::string(action) == "list") sub->add_option("-n,--limit", dlq_limit, "entries per target")->check(CLI::Range(0, 1000000));
    sub->callback([&dlq_action, action] { dlq_action = action; });
  }

  std::string simulate_host = "127.0.0.1";
  auto* simulate = app.add_subcommand("simulate", "Serve simulated plant data (the simulator: section; OPC UA and Modbus TCP)");
  simulate->add_option("-c,--config", config_path, "configuration file")->required();
  simulate->add_option("--host", simulate_host, "IPv4 or IPv6 address to listen on (default 127.0.0.1)");

  uc::app::BrowseCommandOptions browse_opts;
  auto* browse = app.add_subcommand("browse", "Browse an OPC UA server's address space (tree, node ids, data types)");
  browse->add_option("endpoint", browse_opts.endpoint, "opc.tcp://host:port[/path]")->required();
  browse->add_option("--root", browse_opts.root, "start node (default i=85, the Objects folder)");
  browse->add_option("--depth", browse_opts.max_depth, "levels below the root (default 6)")->check(CLI::Range(1, 64));
  browse->add_option("--max-nodes", browse_opts.max_nodes, "stop after this many nodes (default 10000)")
      ->check(CLI::Range(1, 10000000));
  browse->add_option("--max-references", browse_opts.max_references,
                     "references per Browse call (0 = server's choice; the rest via BrowseNext)");
  browse->add_option("-t,--timeout-ms", browse_opts.timeout_ms, "per request")->check(CLI::Range(1, 3600000));
  browse->add_flag("--json", browse_opts.json, "JSON Lines instead of the tree");
  browse->add_flag("--endpoints", browse_opts.endpoints, "also print FindServers and GetEndpoints");

  auto creds = uc::app::add_creds_command(app);

  app.add_subcommand("version", "Version and build information");

  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (const auto* sub : app.get_subcommands({})) known = known || sub->get_name() == argv[1];
    if (!known) {
      std::cerr << "unknown command \"" << argv[1] << "\"\n\n" << app.help();
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message and usage
    return 2;
  }

  if (*run) return uc::app::cmd_run(config_path);
  if (*validate) return uc::app::cmd_validate(config_path);
  if (*read && read_all_orders) return uc::app::cmd_read_all_orders(config_path, source_name);
  if (*simulate) return uc::app::cmd_simulate(config_path, simulate_host);
  if (*read) return uc::app::cmd_read(config_path, source_name, read_count, read_timeout_ms);
  if (*browse) return uc::app::cmd_browse(browse_opts);
  if (*schema) return uc::app::cmd_schema(proto, table);
  if (creds->selected()) return uc::app::cmd_creds(*creds);
  if (*dlq) return uc::app::cmd_dlq(dlq_action, config_path, dlq_target, dlq_limit);
  return uc::app::cmd_version();
}
