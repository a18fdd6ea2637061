#include "simulator/modbus/modbus_server.h"

#include <modbus/modbus.h>
#include <spdlog/spdlog.h>
#include <sys/select.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "simulator/modbus/register_map.h"

namespace uc::simulator::modbus {
namespace {

// Frees the libmodbus objects however run() ends.
struct Resources {
  modbus_t* ctx = nullptr;
  modbus_mapping_t* map = nullptr;
  ~Resources() {
    if (map != nullptr) modbus_mapping_free(map);
    if (ctx != nullptr) modbus_free(ctx);
  }
};

}  // namespace

ModbusServer::ModbusServer(ServerOptions options) : options_(std::move(options)) {}

ModbusServer::~ModbusServer() { stop(); }

Status ModbusServer::start() {
  if (thread_.joinable()) return {StatusCode::kFailedPrecondition, "already started"};
  // Our own listening socket: libmodbus's modbus_tcp_listen cannot report the port
  // of port 0 and sets no SO_REUSEADDR-free error text.
  auto listener = net::Listener::listen(options_.host, options_.port, 128);
  if (!listener.is_ok()) return {listener.status().code(), "simulator.modbus: " + listener.status().message()};
  listener_ = std::move(*listener);
  port_ = listener_.port();
  stop_ = false;
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void ModbusServer::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  listener_.close();
}

void ModbusServer::run() {
  Resources r;
  r.ctx = modbus_new_tcp(nullptr, port_);
  r.map = modbus_mapping_new(kBitCount, kBitCount, kRegisterCount, kRegisterCount);
  if (r.ctx == nullptr || r.map == nullptr) {
    spdlog::error("simulator.modbus: cannot allocate the register map");
    return;
  }
  // A client that sends half a frame cannot hold the others up for long.
  modbus_set_byte_timeout(r.ctx, 0, 200000);
  const auto started = std::chrono::steady_clock::now();
  std::uint64_t second = 0;
  {
    const auto regs = registers_at(0);
    const auto bits = bits_at(0);
    std::copy(regs.begin(), regs.end(), r.map->tab_registers);
    std::copy(regs.begin(), regs.end(), r.map->tab_input_registers);
    std::copy(bits.begin(), bits.end(), r.map->tab_bits);
    std::copy(bits.begin(), bits.end(), r.map->tab_input_bits);
  }
  // libmodbus frames requests on the accepted sockets (non-blocking: it waits in select()).
  std::vector<net::Connection> clients;
  std::vector<std::uint8_t> query(MODBUS_TCP_MAX_ADU_LENGTH);
  while (!stop_) {
    const auto n = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count());
    if (n != second) {
      second = n;
      update_dynamic(n, r.map->tab_registers, r.map->tab_bits);
      update_dynamic(n, r.map->tab_input_registers, r.map->tab_input_bits);
    }
    fd_set set;
    FD_ZERO(&set);
    FD_SET(listener_.fd(), &set);
    int max_fd = listener_.fd();
    for (const net::Connection& c : clients) {
      FD_SET(c.fd(), &set);
      max_fd = std::max(max_fd, c.fd());
    }
    timeval tv{0, 100000};  // wake up to refresh values and to notice stop()
    const int ready = ::select(max_fd + 1, &set, nullptr, nullptr, &tv);
    if (ready < 0) {
      if (errno == EINTR) continue;
      spdlog::error("simulator.modbus: select: {}", std::strerror(errno));
      break;
    }
    if (ready == 0) continue;
    if (FD_ISSET(listener_.fd(), &set)) {
      auto c = listener_.accept(/*deadline=*/0);  // ready: takes the queued connection, never waits
      // Beyond FD_SETSIZE select() cannot watch it: dropping the Connection closes it.
      if (c.is_ok() && c->fd() < FD_SETSIZE && clients.size() < 900) clients.push_back(std::move(*c));
    }
    for (auto it = clients.begin(); it != clients.end();) {
      if (!FD_ISSET(it->fd(), &set)) {
        ++it;
        continue;
      }
      modbus_set_socket(r.ctx, it->fd());
      const int rc = modbus_receive(r.ctx, query.data());
      if (rc > 0) {
        modbus_reply(r.ctx, query.data(), rc, r.map);
        ++requests_;
        ++it;
      } else if (rc == 0) {
        ++it;  // a frame for another server on a serial line; never on TCP
      } else {
        it = clients.erase(it);
      }
    }
  }
  clients.clear();
  modbus_set_socket(r.ctx, -1);
}

}  // namespace uc::simulator::modbus
