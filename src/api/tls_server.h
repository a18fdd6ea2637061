// TLS for the API server (web_ui.tls): the server side of OpenSSL over memory BIOs, so the
// epoll loop keeps doing the socket I/O and the HTTP connection machine sees plaintext only.
//
//   socket bytes --receive()--> plaintext for HttpConnection::on_bytes
//   HttpConnection::output() --send()--> outbox() --> socket
//
// TlsContext loads the certificate chain and key once (TLS 1.2 and 1.3 only; OpenSSL's
// default cipher suites) and is shared by every connection; TlsServerSession is one
// connection's state. A handshake that fails (plain HTTP on the TLS port, an unknown
// protocol version, a client that refuses our certificate) is an error: the connection is
// closed. Not thread-safe: the server's loop thread owns each session; the context is
// immutable after load() and may be shared.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace uc::api {

class TlsContext {
 public:
  // FAILED_PRECONDITION naming the file when the certificate or key cannot be used (missing,
  // unreadable, not PEM, key not matching the certificate).
  static Result<std::shared_ptr<TlsContext>> load(const std::string& cert_file, const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  SSL_CTX* native() const { return ctx_; }

 private:
  TlsContext() = default;
  SSL_CTX* ctx_ = nullptr;
};

class TlsServerSession {
 public:
  explicit TlsServerSession(const TlsContext& context);
  ~TlsServerSession();
  TlsServerSession(const TlsServerSession&) = delete;
  TlsServerSession& operator=(const TlsServerSession&) = delete;

  // Bytes from the socket; the decrypted bytes are appended to *plain and handshake
  // records to send go to outbox(). An error ends the connection (its message says why).
  Status receive(std::string_view cipher, std::string* plain);
  // Encrypts all of `plain` into outbox() (after the handshake).
  Status send(std::string_view plain);
  // Queues close_notify once.
  void close_notify();
  // True once the peer sent close_notify.
  bool peer_closed() const { return peer_closed_; }
  std::string& outbox() { return outbox_; }

 private:
  void drain_output();
  Status failure(const char* what);

  SSL* ssl_ = nullptr;
  std::string outbox_;
  bool peer_closed_ = false;
  bool notified_ = false;
};

}  // namespace uc::api
