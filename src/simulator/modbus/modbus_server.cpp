#include "simulator/modbus/modbus_server.h"

#include <arpa/inet.h>
#include <modbus/modbus.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

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
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return unavailable(std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(options_.port));
  if (::inet_pton(AF_INET, options_.host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return invalid_argument("simulator.modbus: invalid IPv4 address \"" + options_.host + "\"");
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0) {
    const std::string err = std::strerror(errno);
    ::close(fd);
    return unavailable("simulator.modbus: cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                       ": " + err);
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  listen_fd_ = fd;
  stop_ = false;
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void ModbusServer::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
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
  std::vector<int> clients;
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
    FD_SET(listen_fd_, &set);
    int max_fd = listen_fd_;
    for (const int c : clients) {
      FD_SET(c, &set);
      max_fd = std::max(max_fd, c);
    }
    timeval tv{0, 100000};  // wake up to refresh values and to notice stop()
    const int ready = ::select(max_fd + 1, &set, nullptr, nullptr, &tv);
    if (ready < 0) {
      if (errno == EINTR) continue;
      spdlog::error("simulator.modbus: select: {}", std::strerror(errno));
      break;
    }
    if (ready == 0) continue;
    if (FD_ISSET(listen_fd_, &set)) {
      const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) {
        if (c >= FD_SETSIZE || clients.size() >= 900) {
          ::close(c);  // select() cannot watch it
        } else {
          clients.push_back(c);
        }
      }
    }
    for (auto it = clients.begin(); it != clients.end();) {
      if (!FD_ISSET(*it, &set)) {
        ++it;
        continue;
      }
      modbus_set_socket(r.ctx, *it);
      const int rc = modbus_receive(r.ctx, query.data());
      if (rc > 0) {
        modbus_reply(r.ctx, query.data(), rc, r.map);
        ++requests_;
        ++it;
      } else if (rc == 0) {
        ++it;  // a frame for another server on a serial line; never on TCP
      } else {
        ::close(*it);
        it = clients.erase(it);
      }
    }
  }
  for (const int c : clients) ::close(c);
  modbus_set_socket(r.ctx, -1);
}

}  // namespace uc::simulator::modbus
