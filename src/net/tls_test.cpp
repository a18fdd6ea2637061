// TLS of net::Connection against an in-test OpenSSL server on loopback, with
// certificates made here with the OpenSSL API (nothing read from disk but what the test
// writes to its own temporary directory).
#include <fcntl.h>
#include <signal.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "net/connection.h"
#include "net/listener.h"
#include "net/waker.h"

namespace uc::net {
namespace {

constexpr std::int64_t kLongMs = 10'000;

std::string temp_dir() {
  std::string tmpl = testing::TempDir() + "uc_net_tls_XXXXXX";
  const char* dir = ::mkdtemp(tmpl.data());
  EXPECT_NE(dir, nullptr);
  return tmpl;
}

bool add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A self-signed P-256 certificate (its own trust anchor) and key, written as PEM files.
struct Identity {
  std::string cert_file, key_file;
};

Identity make_identity(const std::string& dir, const std::string& cn, const char* subject_alt_names) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), std::rand() % 100000 + 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  EXPECT_TRUE(add_extension(cert, NID_basic_constraints, "critical,CA:TRUE"));
  EXPECT_TRUE(add_extension(cert, NID_subject_alt_name, subject_alt_names));
  EXPECT_GT(X509_sign(cert, key, EVP_sha256()), 0);
  Identity id{dir + "/" + cn + ".crt", dir + "/" + cn + ".key"};
  FILE* f = std::fopen(id.cert_file.c_str(), "w");
  PEM_write_X509(f, cert);
  std::fclose(f);
  f = std::fopen(id.key_file.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
  return id;
}

// One TLS connection served on its own thread: handshake, then echo what it reads
// (or, with sink_bytes, read that many bytes and answer "done"), until the client closes.
class TestServer {
 public:
  struct Config {
    Identity identity{};
    std::string client_ca{};  // set: a client certificate is required and verified against it
    int max_version = 0;    // e.g. TLS1_2_VERSION
    std::size_t sink_bytes = 0;
    bool close_after_handshake = false;
  };

  explicit TestServer(Config config) : config_(std::move(config)) {
    auto l = Listener::listen("127.0.0.1", 0);
    EXPECT_TRUE(l.is_ok());
    listener_ = std::move(*l);
    thread_ = std::thread([this] { serve(); });
  }
  ~TestServer() { join(); }
  int port() const { return listener_.port(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  // After join(): what the server saw.
  bool handshake_ok() const { return handshake_ok_; }
  const std::string& client_cn() const { return client_cn_; }

 private:
  SSL_CTX* make_context() const {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_chain_file(ctx, config_.identity.cert_file.c_str());
    SSL_CTX_use_PrivateKey_file(ctx, config_.identity.key_file.c_str(), SSL_FILETYPE_PEM);
    if (config_.max_version != 0) SSL_CTX_set_max_proto_version(ctx, config_.max_version);
    if (!config_.client_ca.empty()) {
      SSL_CTX_load_verify_locations(ctx, config_.client_ca.c_str(), nullptr);
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    return ctx;
  }

  void serve() {
    // This server writes through OpenSSL's socket BIO: a client gone away must not
    // SIGPIPE the test process (net's own BIO never raises it; the tests check that).
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    auto accepted = listener_.accept(deadline_in_ms(kLongMs));
    if (!accepted.is_ok()) return;
    const int fd = accepted->fd();
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);  // this server blocks
    SSL_CTX* ctx = make_context();
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    handshake_ok_ = SSL_accept(ssl) == 1;
    if (handshake_ok_) {
      if (X509* peer = SSL_get1_peer_certificate(ssl); peer != nullptr) {
        char cn[256] = {};
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
        client_cn_ = cn;
        X509_free(peer);
      }
      if (!config_.close_after_handshake) exchange(ssl);
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }

  void exchange(SSL* ssl) {
    char buf[65536];
    std::size_t total = 0;
    for (;;) {
      const int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) return;
      total += static_cast<std::size_t>(n);
      if (config_.sink_bytes == 0) {
        SSL_write(ssl, buf, n);
      } else if (total == config_.sink_bytes) {
        SSL_write(ssl, "done", 4);
      }
    }
  }

  Config config_;
  Listener listener_;
  std::thread thread_;
  bool handshake_ok_ = false;
  std::string client_cn_;
};

class NetTls : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(temp_dir());
    server_ = new Identity(make_identity(*dir_, "localhost", "DNS:localhost,IP:127.0.0.1"));
    client_ = new Identity(make_identity(*dir_, "uc-test-client", "DNS:uc-test-client"));
    stranger_ = new Identity(make_identity(*dir_, "stranger", "DNS:localhost,IP:127.0.0.1"));
  }

  static TlsOptions trusting_server() {
    TlsOptions o;
    o.enabled = true;
    o.ca_file = server_->cert_file;
    return o;
  }

  static std::string read_text(Connection& c, std::size_t n) {
    std::string out;
    char buf[256];
    while (out.size() < n) {
      const ReadResult r = c.read_some(std::span(buf, std::min(sizeof buf, n - out.size())), deadline_in_ms(kLongMs));
      if (!r.has_data()) {
        ADD_FAILURE() << r.status.to_string();
        break;
      }
      out.append(buf, r.size);
    }
    return out;
  }

  static inline std::string* dir_ = nullptr;
  static inline Identity* server_ = nullptr;
  static inline Identity* client_ = nullptr;
  static inline Identity* stranger_ = nullptr;
};

TEST_F(NetTls, VerifiesTheServerByNameAndExchangesBytes) {
  TestServer server({.identity = *server_});
  auto c = Connection::connect("localhost", server.port(), deadline_in_ms(kLongMs), trusting_server());
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_TRUE(c->is_tls());
  ASSERT_TRUE(c->send_all(std::string_view("hello"), deadline_in_ms(kLongMs)).is_ok());
  // One TLS record comes back: after its first byte, the rest is pending in OpenSSL,
  // readable without the socket.
  char one[1];
  const ReadResult first = c->read_some(std::span(one), deadline_in_ms(kLongMs));
  ASSERT_TRUE(first.has_data()) << first.status.to_string();
  EXPECT_EQ(one[0], 'h');
  EXPECT_TRUE(c->pending());
  EXPECT_EQ(c->wait_readable(/*deadline=*/0), WaitResult::kReady);
  EXPECT_EQ(read_text(*c, 4), "ello");
  c->close();
  server.join();
  EXPECT_TRUE(server.handshake_ok());
}

TEST_F(NetTls, VerifiesTheServerByIpAddress) {
  TestServer server({.identity = *server_});
  auto c = Connection::connect("127.0.0.1", server.port(), deadline_in_ms(kLongMs), trusting_server());
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
}

TEST_F(NetTls, StartsTlsOnAPlainConnectionWithItsOwnDeadline) {
  TestServer server({.identity = *server_});
  auto c = Connection::connect("127.0.0.1", server.port(), deadline_in_ms(kLongMs));
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_FALSE(c->is_tls());
  ASSERT_TRUE(c->start_tls(trusting_server(), "localhost", deadline_in_ms(kLongMs)).is_ok());
  EXPECT_TRUE(c->is_tls());
  EXPECT_EQ(c->start_tls(trusting_server(), "localhost", deadline_in_ms(kLongMs)).code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(c->send_all(std::string_view("hi"), deadline_in_ms(kLongMs)).is_ok());
  EXPECT_EQ(read_text(*c, 2), "hi");
}

TEST_F(NetTls, WrongHostnameIsACertificateError) {
  TestServer server({.identity = *server_});
  TlsOptions o = trusting_server();
  o.server_name = "wrong.example";
  auto c = Connection::connect("127.0.0.1", server.port(), deadline_in_ms(kLongMs), o);
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("TLS handshake with 127.0.0.1: certificate verify failed: hostname mismatch"),
            std::string::npos)
      << c.status().message();
}

TEST_F(NetTls, UntrustedServerIsACertificateError) {
  TestServer server({.identity = *stranger_});
  auto c = Connection::connect("localhost", server.port(), deadline_in_ms(kLongMs), trusting_server());
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("certificate verify failed: "), std::string::npos) << c.status().message();
}

TEST_F(NetTls, PresentsAClientCertificate) {
  TestServer server({.identity = *server_, .client_ca = client_->cert_file});
  TlsOptions o = trusting_server();
  o.cert_file = client_->cert_file;
  o.key_file = client_->key_file;
  auto c = Connection::connect("localhost", server.port(), deadline_in_ms(kLongMs), o);
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  ASSERT_TRUE(c->send_all(std::string_view("ping"), deadline_in_ms(kLongMs)).is_ok());
  EXPECT_EQ(read_text(*c, 4), "ping");
  c->close();
  server.join();
  EXPECT_EQ(server.client_cn(), "uc-test-client");
}

TEST_F(NetTls, MissingClientCertificateFailsTheHandshakeOnTls12) {
  TestServer server({.identity = *server_, .client_ca = client_->cert_file, .max_version = TLS1_2_VERSION});
  auto c = Connection::connect("localhost", server.port(), deadline_in_ms(kLongMs), trusting_server());
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("TLS handshake with localhost: "), std::string::npos) << c.status().message();
}

TEST_F(NetTls, MissingClientCertificateFailsTheFirstReadOnTls13) {
  // In TLS 1.3 the client's handshake ends before the server checks its certificate;
  // the refusal arrives as an alert on the first read.
  TestServer server({.identity = *server_, .client_ca = client_->cert_file});
  auto c = Connection::connect("localhost", server.port(), deadline_in_ms(kLongMs), trusting_server());
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  char buf[16];
  const ReadResult r = c->read_some(std::span(buf), deadline_in_ms(kLongMs));
  EXPECT_FALSE(r.has_data());
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status.message().find("certificate required"), std::string::npos) << r.status.message();
}

TEST_F(NetTls, UnusableFilesAreAFailedPrecondition) {
  auto l = Listener::listen("127.0.0.1", 0);  // TCP connects; the TLS setup fails first
  ASSERT_TRUE(l.is_ok());
  TlsOptions o = trusting_server();
  o.ca_file = *dir_ + "/missing.pem";
  auto c = Connection::connect("127.0.0.1", l->port(), deadline_in_ms(kLongMs), o);
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(c.status().message().find("cannot load ca_file"), std::string::npos) << c.status().message();

  o = trusting_server();
  o.cert_file = client_->cert_file;
  c = Connection::connect("127.0.0.1", l->port(), deadline_in_ms(kLongMs), o);
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition) << c.status().to_string();

  o.key_file = stranger_->key_file;  // not the certificate's key
  c = Connection::connect("127.0.0.1", l->port(), deadline_in_ms(kLongMs), o);
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition) << c.status().to_string();
}

TEST_F(NetTls, HandshakeWithASilentPeerTimesOutOrIsCancelled) {
  auto l = Listener::listen("127.0.0.1", 0);  // accepts in the kernel, never answers
  ASSERT_TRUE(l.is_ok());
  auto c = Connection::connect("127.0.0.1", l->port(), deadline_in_ms(100), trusting_server());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("TLS handshake with 127.0.0.1: timed out"), std::string::npos)
      << c.status().message();
  Waker waker;
  std::thread canceller([&] { waker.wake(); });
  c = Connection::connect("127.0.0.1", l->port(), kNoDeadline, trusting_server(), &waker);
  canceller.join();
  EXPECT_EQ(c.status().code(), StatusCode::kCancelled);
}

TEST_F(NetTls, ReadIsCancelledAndPeerCloseIsClosed) {
  TestServer server({.identity = *server_});
  auto c = Connection::connect("localhost", server.port(), deadline_in_ms(kLongMs), trusting_server());
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  Waker waker;
  std::thread canceller([&] { waker.wake(); });
  char buf[16];
  EXPECT_EQ(c->read_some(std::span(buf), kNoDeadline, &waker).kind, ReadResult::Kind::kCancelled);
  canceller.join();

  TestServer closing({.identity = *server_, .close_after_handshake = true});
  auto d = Connection::connect("localhost", closing.port(), deadline_in_ms(kLongMs), trusting_server());
  ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  const ReadResult r = d->read_some(std::span(buf), deadline_in_ms(kLongMs));
  EXPECT_EQ(r.kind, ReadResult::Kind::kClosed) << r.status.to_string();
  closing.join();
  // Writing on: an error once the peer's reset arrives, never a SIGPIPE.
  const std::vector<std::uint8_t> chunk(1 << 16, 1);
  Status st;
  for (int i = 0; i < 64 && st.is_ok(); ++i) st = d->send_all(chunk, deadline_in_ms(kLongMs));
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.to_string();
}

TEST_F(NetTls, LargeSendArrivesWhole) {
  const std::size_t size = 4 << 20;
  TestServer server({.identity = *server_, .sink_bytes = size});
  auto c = Connection::connect("localhost", server.port(), deadline_in_ms(kLongMs), trusting_server());
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  const std::vector<std::uint8_t> data(size, 0x5a);
  ASSERT_TRUE(c->send_all(data, deadline_in_ms(kLongMs)).is_ok());
  EXPECT_EQ(read_text(*c, 4), "done");
}

}  // namespace
}  // namespace uc::net
