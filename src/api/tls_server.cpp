#include "api/tls_server.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace uc::api {

namespace {

std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::load(const std::string& cert_file, const std::string& key_file) {
  std::shared_ptr<TlsContext> c(new TlsContext());
  ERR_clear_error();
  c->ctx_ = SSL_CTX_new(TLS_server_method());
  if (c->ctx_ == nullptr) return Status(StatusCode::kInternal, "TLS: " + openssl_errors());
  SSL_CTX_set_min_proto_version(c->ctx_, TLS1_2_VERSION);
  SSL_CTX_set_options(c->ctx_, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(c->ctx_, cert_file.c_str()) != 1) {
    return Status(StatusCode::kFailedPrecondition,
                  "web_ui.tls.cert_file " + cert_file + ": cannot use it: " + openssl_errors());
  }
  if (SSL_CTX_use_PrivateKey_file(c->ctx_, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Status(StatusCode::kFailedPrecondition, "web_ui.tls.key_file " + key_file +
                                                       ": cannot use it (not a readable PEM key, or it does not "
                                                       "match the certificate in " + cert_file + "): " +
                                                       openssl_errors());
  }
  if (SSL_CTX_check_private_key(c->ctx_) != 1) {
    return Status(StatusCode::kFailedPrecondition,
                  "web_ui.tls.key_file " + key_file + " does not match the certificate in " + cert_file);
  }
  return c;
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

TlsServerSession::TlsServerSession(const TlsContext& context) {
  ssl_ = SSL_new(context.native());
  if (ssl_ == nullptr) return;
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_, in, out);  // the session owns both from here
  SSL_set_accept_state(ssl_);
}

TlsServerSession::~TlsServerSession() {
  SSL_free(ssl_);
}

Status TlsServerSession::failure(const char* what) {
  return Status(StatusCode::kUnavailable, std::string("TLS ") + what + ": " + openssl_errors());
}

void TlsServerSession::drain_output() {
  BIO* out = SSL_get_wbio(ssl_);
  char buf[16 * 1024];
  for (;;) {
    const int n = BIO_read(out, buf, sizeof(buf));
    if (n <= 0) break;
    outbox_.append(buf, static_cast<std::size_t>(n));
  }
}

Status TlsServerSession::receive(std::string_view cipher, std::string* plain) {
  if (ssl_ == nullptr) return Status(StatusCode::kInternal, "TLS session could not be created");
  ERR_clear_error();
  if (!cipher.empty() && BIO_write(SSL_get_rbio(ssl_), cipher.data(), static_cast<int>(cipher.size())) <= 0) {
    return failure("buffer");
  }
  char buf[16 * 1024];
  for (;;) {
    const int n = SSL_read(ssl_, buf, sizeof(buf));
    if (n > 0) {
      plain->append(buf, static_cast<std::size_t>(n));
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    drain_output();
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Status::ok();
    if (err == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      return Status::ok();
    }
    return failure(SSL_is_init_finished(ssl_) ? "read" : "handshake");
  }
}

Status TlsServerSession::send(std::string_view plain) {
  if (ssl_ == nullptr) return Status(StatusCode::kInternal, "TLS session could not be created");
  ERR_clear_error();
  while (!plain.empty()) {
    const int n = SSL_write(ssl_, plain.data(), static_cast<int>(plain.size()));
    if (n <= 0) {
      drain_output();
      return failure("write");
    }
    plain.remove_prefix(static_cast<std::size_t>(n));
  }
  drain_output();
  return Status::ok();
}

void TlsServerSession::close_notify() {
  if (ssl_ == nullptr || notified_ || !SSL_is_init_finished(ssl_)) return;
  notified_ = true;
  SSL_shutdown(ssl_);
  drain_output();
}

}  // namespace uc::api
