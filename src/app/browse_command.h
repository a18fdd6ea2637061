// `browse opc.tcp://...`: an OPC UA server's address space as a tree (SPEC §1).
#pragma once

#include <cstdint>
#include <string>

namespace uc::app {

struct BrowseCommandOptions {
  std::string endpoint;
  std::string root = "i=85";   // Objects folder
  int max_depth = 6;
  int max_nodes = 10000;
  std::uint32_t max_references = 0;  // per Browse call; 0 = server's choice (small values exercise BrowseNext)
  bool json = false;                 // JSON Lines instead of the indented tree
  bool endpoints = false;            // also print GetEndpoints/FindServers
  int timeout_ms = 10000;
};

// Exit 0 when the whole tree (up to the limits) was printed, 1 on a connection or
// service failure (message on stderr), 2 for a bad root node id.
int cmd_browse(const BrowseCommandOptions& options);

}  // namespace uc::app
