// The simulator's Modbus TCP server (libmodbus's server API on one thread; select()
// serves many clients). Every unit id gets the same register map (register_map.h),
// whose dynamic part is refreshed once a second. Requests outside the map are
// answered with exception 2 (ILLEGAL DATA ADDRESS) by libmodbus.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "core/status.h"
#include "net/listener.h"

namespace uc::simulator::modbus {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 5020;  // 0: any free port (see port())
};

class ModbusServer {
 public:
  explicit ModbusServer(ServerOptions options);
  ~ModbusServer();
  ModbusServer(const ModbusServer&) = delete;
  ModbusServer& operator=(const ModbusServer&) = delete;

  // Binds and listens on the calling thread (so a busy port is reported here), then
  // serves on its own thread.
  Status start();
  void stop();
  int port() const { return port_; }
  std::uint64_t requests() const { return requests_.load(); }

 private:
  void run();

  ServerOptions options_;
  net::Listener listener_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> requests_{0};
  std::thread thread_;
};

}  // namespace uc::simulator::modbus
