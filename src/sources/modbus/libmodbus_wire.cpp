#include "sources/modbus/libmodbus_wire.h"

#include <modbus/modbus.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <span>

#include "protocols/modbus/adu.h"

namespace uc::sources::modbus {
namespace {

void set_timeout(modbus_t* ctx, int timeout_ms) {
  const auto sec = static_cast<std::uint32_t>(timeout_ms / 1000);
  const auto usec = static_cast<std::uint32_t>((timeout_ms % 1000) * 1000);
  modbus_set_response_timeout(ctx, sec, usec);
  modbus_set_byte_timeout(ctx, sec, usec);
}

char parity_char(Parity p) {
  switch (p) {
    case Parity::kNone: return 'N';
    case Parity::kEven: return 'E';
    case Parity::kOdd: return 'O';
  }
  return 'N';
}

}  // namespace

std::string describe_endpoint(const Options& o) {
  if (o.transport == Transport::kTcp) return o.host + ":" + std::to_string(o.port);
  return o.device + " " + std::to_string(o.baud) + " " + std::to_string(o.data_bits) + parity_char(o.parity) +
         std::to_string(o.stop_bits);
}

LibmodbusWire::LibmodbusWire(const Options& options) : options_(options) {}

LibmodbusWire::~LibmodbusWire() {
  close();
  if (ctx_ != nullptr) modbus_free(ctx_);
}

Status LibmodbusWire::connect() {
  close();
  {
    std::lock_guard lock(fd_mu_);
    if (interrupted_) return {StatusCode::kCancelled, "stopping"};
  }
  if (ctx_ == nullptr) {
    if (options_.transport == Transport::kTcp) {
      ctx_ = modbus_new_tcp_pi(options_.host.c_str(), std::to_string(options_.port).c_str());
    } else {
      ctx_ = modbus_new_rtu(options_.device.c_str(), options_.baud, parity_char(options_.parity), options_.data_bits,
                            options_.stop_bits);
    }
    if (ctx_ == nullptr) return unavailable(std::string("cannot create a libmodbus context: ") + std::strerror(errno));
    set_timeout(ctx_, options_.timeout_ms);
    modbus_set_error_recovery(ctx_, MODBUS_ERROR_RECOVERY_NONE);
  }
  if (modbus_connect(ctx_) == -1) {
    return unavailable("connect to " + describe_endpoint(options_) + ": " + modbus_strerror(errno));
  }
  connected_ = true;
  std::lock_guard lock(fd_mu_);
  fd_ = modbus_get_socket(ctx_);
  if (interrupted_ && fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  return Status::ok();
}

void LibmodbusWire::close() {
  if (!connected_) return;
  std::lock_guard lock(fd_mu_);
  modbus_close(ctx_);
  fd_ = -1;
  connected_ = false;
}

void LibmodbusWire::flush() {
  if (connected_) modbus_flush(ctx_);
}

void LibmodbusWire::interrupt() {
  std::lock_guard lock(fd_mu_);
  interrupted_ = true;
  // Wakes a blocked select/recv on a socket; a serial port waits for its timeout.
  if (fd_ >= 0 && options_.transport == Transport::kTcp) ::shutdown(fd_, SHUT_RDWR);
}

ReadOutcome LibmodbusWire::read(int unit, Table table, int start, int count, std::uint16_t* regs,
                                std::uint8_t* bits) {
  namespace pm = protocols::modbus;
  if (!connected_) return {ReadOutcome::Kind::kConnection, 0, "not connected"};
  pm::ReadExpectation expect;
  expect.unit = static_cast<std::uint8_t>(unit);
  expect.table = table;
  expect.count = static_cast<std::uint16_t>(count);
  modbus_set_slave(ctx_, unit);  // RTU: libmodbus drops frames of other units before their CRC check
  errno = 0;
  // The request goes out as raw bytes and the answer comes back raw, so that every field
  // of it is checked by pm::parse_read_answer (libmodbus 3.1.6 accepts a TCP answer
  // from another unit id). TCP requests carry our own transaction ids, so a late answer
  // to an earlier, timed-out request is told apart from the current one.
  if (options_.transport == Transport::kTcp) {
    expect.framing = pm::Framing::kTcp;
    expect.tid = ++tid_;
    const auto req = pm::tcp_read_request(expect.tid, expect.unit, table, static_cast<std::uint16_t>(start),
                                          expect.count);
    const ssize_t sent = ::send(modbus_get_socket(ctx_), req.data(), req.size(), MSG_NOSIGNAL);
    if (sent != static_cast<ssize_t>(req.size())) {
      return {ReadOutcome::Kind::kConnection, 0, std::string("send: ") + std::strerror(errno)};
    }
  } else {
    expect.framing = pm::Framing::kRtu;
    const auto req = pm::rtu_read_request(expect.unit, table, static_cast<std::uint16_t>(start), expect.count);
    if (modbus_send_raw_request(ctx_, req.data(), static_cast<int>(req.size()) - 2) == -1) {
      return {ReadOutcome::Kind::kConnection, 0, std::string("send: ") + modbus_strerror(errno)};
    }
  }
  std::uint8_t answer[MODBUS_MAX_ADU_LENGTH];
  errno = 0;
  const int rc = modbus_receive_confirmation(ctx_, answer);
  if (rc < 0) {
    const int err = errno;
    if (err == ETIMEDOUT) {
      return {ReadOutcome::Kind::kTimeout, 0, "no answer within " + std::to_string(options_.timeout_ms) + " ms"};
    }
    const std::string text = modbus_strerror(err);
    if (err >= MODBUS_ENOBASE) return {ReadOutcome::Kind::kProtocol, 0, "bad answer: " + text};
    return {ReadOutcome::Kind::kConnection, 0, text};
  }
  if (rc == 0) return {ReadOutcome::Kind::kProtocol, 0, "bad answer: the frame was for another unit id"};
  const pm::ReadAnswer a = pm::parse_read_answer(std::span(answer, static_cast<std::size_t>(rc)), expect, regs, bits);
  switch (a.kind) {
    case pm::ReadAnswer::Kind::kOk: return {};
    case pm::ReadAnswer::Kind::kException: return {ReadOutcome::Kind::kException, a.exception_code, a.error};
    case pm::ReadAnswer::Kind::kMalformed: break;
  }
  return {ReadOutcome::Kind::kProtocol, 0, "bad answer: " + a.error};
}

}  // namespace uc::sources::modbus
