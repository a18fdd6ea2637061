// Internal to net/: the OpenSSL client side of one TLS connection on a non-blocking
// socket. Each call makes one attempt and says what the socket must become before the
// next (readable or writable); Connection does the waiting. Its socket I/O goes
// through a BIO that sends with MSG_NOSIGNAL, so a peer that has gone away is an error,
// never a SIGPIPE. One thread; owns its SSL_CTX and SSL, not the socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "net/connection.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace uc::net {

class TlsSession {
 public:
  enum class Io { kDone, kWantRead, kWantWrite, kClosed, kError };

  // Loads the CA, client certificate and key and sets up verification of `peer_name`.
  // kFailedPrecondition for unusable files, kInternal when OpenSSL cannot allocate.
  static Result<std::unique_ptr<TlsSession>> create(const TlsOptions& options, const std::string& peer_name, int fd);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  Io handshake();
  Io read(std::uint8_t* data, std::size_t size, std::size_t& got);
  Io write(const std::uint8_t* data, std::size_t size, std::size_t& put);
  bool pending() const;
  // close_notify, once, without waiting; nothing after a failure.
  void shutdown();
  // Why the last call returned kError or kClosed (the verify error after a handshake).
  const std::string& error() const { return error_; }

  struct SocketState {
    int fd = -1;
    bool eof = false;
  };

 private:
  TlsSession() = default;
  Status configure(const TlsOptions& options, const std::string& peer_name);
  Io classify(int ret, const char* what);

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  SocketState socket_;
  std::string error_;
  bool failed_ = false;
};

}  // namespace uc::net
