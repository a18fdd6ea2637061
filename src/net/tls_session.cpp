#include "net/tls_session.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace uc::net {
namespace {

std::string ssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

TlsSession::SocketState& state_of(BIO* b) { return *static_cast<TlsSession::SocketState*>(BIO_get_data(b)); }

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

int bio_write(BIO* b, const char* data, int size) {
  BIO_clear_retry_flags(b);
  const ssize_t n = ::send(state_of(b).fd, data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
  if (n >= 0) return static_cast<int>(n);
  if (would_block(errno)) BIO_set_retry_write(b);
  return -1;
}

int bio_read(BIO* b, char* data, int size) {
  BIO_clear_retry_flags(b);
  const ssize_t n = ::recv(state_of(b).fd, data, static_cast<std::size_t>(size), 0);
  if (n == 0) state_of(b).eof = true;
  if (n >= 0) return static_cast<int>(n);
  if (would_block(errno)) BIO_set_retry_read(b);
  return -1;
}

long bio_ctrl(BIO* b, int cmd, long /*num*/, void* /*ptr*/) {
  if (cmd == BIO_CTRL_FLUSH) return 1;
  if (cmd == BIO_CTRL_EOF) return state_of(b).eof ? 1 : 0;
  return 0;
}

// The socket BIO of OpenSSL writes with write(2), which raises SIGPIPE on a closed peer.
const BIO_METHOD* nosignal_socket_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "uc-net-socket");
    if (m != nullptr) {
      BIO_meth_set_write(m, bio_write);
      BIO_meth_set_read(m, bio_read);
      BIO_meth_set_ctrl(m, bio_ctrl);
    }
    return m;
  }();
  return method;
}

bool is_ip_address(const std::string& name) {
  in_addr a4{};
  in6_addr a6{};
  return ::inet_pton(AF_INET, name.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, name.c_str(), &a6) == 1;
}

Status bad_config(const std::string& what) { return {StatusCode::kFailedPrecondition, "TLS: " + what + ": " + ssl_errors()}; }

Status load_trust(SSL_CTX* ctx, const TlsOptions& o) {
  if (!o.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, o.ca_file.c_str(), nullptr) != 1) return bad_config("cannot load ca_file " + o.ca_file);
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return bad_config("cannot load the system CA store");
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return Status::ok();
}

Status load_client_certificate(SSL_CTX* ctx, const TlsOptions& o) {
  if (o.cert_file.empty() && o.key_file.empty()) return Status::ok();
  if (o.cert_file.empty() || o.key_file.empty()) {
    return {StatusCode::kFailedPrecondition, "TLS: cert_file and key_file go together"};
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return bad_config("cannot use cert_file/key_file " + o.cert_file + " / " + o.key_file);
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<TlsSession>> TlsSession::create(const TlsOptions& options, const std::string& peer_name, int fd) {
  std::unique_ptr<TlsSession> s(new TlsSession());
  s->socket_.fd = fd;
  if (Status st = s->configure(options, peer_name); !st.is_ok()) return st;
  return s;
}

Status TlsSession::configure(const TlsOptions& options, const std::string& peer_name) {
  ERR_clear_error();
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (ctx_ == nullptr) return internal_error("TLS: " + ssl_errors());
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  if (Status st = load_trust(ctx_, options); !st.is_ok()) return st;
  if (Status st = load_client_certificate(ctx_, options); !st.is_ok()) return st;
  ssl_ = SSL_new(ctx_);
  BIO* bio = nosignal_socket_method() != nullptr ? BIO_new(nosignal_socket_method()) : nullptr;
  if (ssl_ == nullptr || bio == nullptr) {
    BIO_free(bio);
    return internal_error("TLS: " + ssl_errors());
  }
  BIO_set_data(bio, &socket_);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, bio);
  const std::string& name = options.server_name.empty() ? peer_name : options.server_name;
  if (is_ip_address(name)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str());
  } else {
    // SSL_set_tlsext_host_name, without the macro's C-style cast
    SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(name.c_str()));
    SSL_set1_host(ssl_, name.c_str());
  }
  return Status::ok();
}

TlsSession::~TlsSession() {
  if (ssl_ != nullptr) SSL_free(ssl_);  // frees the BIO too
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

TlsSession::Io TlsSession::classify(int ret, const char* what) {
  const int e = SSL_get_error(ssl_, ret);
  if (e == SSL_ERROR_WANT_READ) return Io::kWantRead;
  if (e == SSL_ERROR_WANT_WRITE) return Io::kWantWrite;
  failed_ = true;
  if (e == SSL_ERROR_ZERO_RETURN) {
    error_ = "closed by the peer (TLS close_notify)";
    return Io::kClosed;
  }
  const unsigned long first = ERR_peek_error();
  if (socket_.eof && (first == 0 || ERR_GET_REASON(first) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
    ERR_clear_error();
    error_ = "closed by the peer (without TLS close_notify)";
    return Io::kClosed;
  }
  const long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    ERR_clear_error();
    error_ = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
  } else if (e == SSL_ERROR_SYSCALL && first == 0) {
    error_ = std::string(what) + ": " + (errno != 0 ? std::strerror(errno) : "connection lost");
  } else {
    error_ = std::string(what) + ": " + ssl_errors();
  }
  return Io::kError;
}

TlsSession::Io TlsSession::handshake() {
  ERR_clear_error();
  const int r = SSL_connect(ssl_);
  return r == 1 ? Io::kDone : classify(r, "TLS handshake");
}

TlsSession::Io TlsSession::read(std::uint8_t* data, std::size_t size, std::size_t& got) {
  ERR_clear_error();
  const int r = SSL_read(ssl_, data, static_cast<int>(std::min<std::size_t>(size, INT_MAX)));
  if (r <= 0) return classify(r, "TLS read");
  got = static_cast<std::size_t>(r);
  return Io::kDone;
}

TlsSession::Io TlsSession::write(const std::uint8_t* data, std::size_t size, std::size_t& put) {
  ERR_clear_error();
  const int r = SSL_write(ssl_, data, static_cast<int>(std::min<std::size_t>(size, INT_MAX)));
  if (r <= 0) return classify(r, "TLS write");
  put = static_cast<std::size_t>(r);
  return Io::kDone;
}

bool TlsSession::pending() const { return SSL_pending(ssl_) > 0; }

void TlsSession::shutdown() {
  if (failed_ || !SSL_is_init_finished(ssl_)) return;
  failed_ = true;  // once
  ERR_clear_error();
  (void)SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace uc::net
