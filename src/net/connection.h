// net::Connection: one client-side TCP byte stream, optionally TLS — the only place the
// connector's clients touch sockets.
//
// Blocking: connect(), send_all() and read_some() block the calling thread until they
// are done, their deadline passes (net/wait.h: absolute steady-clock microseconds;
// kNoDeadline waits without limit, a past deadline means one non-blocking attempt) or
// the Waker given to the call is woken. Name resolution (getaddrinfo) is the exception:
// it blocks without deadline or cancellation (numeric hosts return at once).
//
// Threads: a Connection belongs to one thread. The exception: without TLS, one thread
// may read while one other thread sends (the socket is full duplex; nothing else is
// shared). Cancellation comes from another thread through a Waker (net/waker.h): a
// woken waker makes every call given it return kCancelled at once, before any I/O;
// pass nullptr for a wait that must not be cancelled (e.g. a goodbye after stop).
//
// Ownership: a Connection owns its socket and TLS state; it is movable, not copyable,
// and closes on destruction. The socket is non-blocking from the start; fd() is for
// the caller's own poll() loop (then check pending() first: TLS may hold decrypted
// bytes the socket no longer shows).
//
// Errors are uc::Status values: kUnavailable for everything about the connection
// (refused, unreachable, timed out, reset, TLS handshake and certificate verification,
// "certificate verify failed: <X509 reason>"), kCancelled when the waker was woken,
// kFailedPrecondition for unusable TLS settings (CA, certificate or key files).
// A send or a TLS read that fails or is cut short leaves the stream in an unknown
// state: close the connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "net/address.h"
#include "net/wait.h"

namespace uc::net {

class TlsSession;
class Waker;

struct TlsOptions {
  bool enabled = false;
  std::string ca_file;      // PEM CA bundle to verify the server; empty: the system store
  std::string cert_file;    // client certificate chain (PEM); empty: none
  std::string key_file;     // its private key (PEM); required with cert_file
  std::string server_name;  // name (or IP) to verify and send as SNI; empty: the host connected to
};

struct ReadResult {
  enum class Kind {
    kData,      // `size` bytes (> 0) were read into the buffer
    kClosed,    // the peer closed the stream (EOF, TLS close_notify or TLS EOF)
    kTimedOut,  // nothing arrived before the deadline (with a past deadline: nothing now)
    kCancelled, // the waker was woken
    kError,     // reset, TLS failure, ...: `status` says what
  };
  Kind kind = Kind::kError;
  std::size_t size = 0;
  Status status;  // ok for kData; kUnavailable (kClosed, kTimedOut, kError) or kCancelled otherwise

  bool has_data() const { return kind == Kind::kData; }
};

class Connection {
 public:
  Connection();  // not open
  ~Connection();
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Resolves host, tries each of its addresses in turn (non-blocking connect + poll)
  // until one connects, sets TCP_NODELAY, then does the TLS handshake when tls.enabled
  // (TLS >= 1.2, the peer's certificate verified against tls.server_name or host: a DNS
  // name is sent as SNI and checked with the certificate's names, an IP against its IP
  // addresses). The deadline covers connecting and the handshake.
  static Result<Connection> connect(const std::string& host, const std::string& port, DeadlineUs deadline,
                                    const TlsOptions& tls = {}, const Waker* waker = nullptr);
  static Result<Connection> connect(const std::string& host, int port, DeadlineUs deadline,
                                    const TlsOptions& tls = {}, const Waker* waker = nullptr);
  // The same on already resolved addresses; `host` names the peer in messages and TLS.
  static Result<Connection> connect(const std::vector<Address>& addresses, const std::string& host, DeadlineUs deadline,
                                    const TlsOptions& tls = {}, const Waker* waker = nullptr);
  // Takes over a connected socket (e.g. from accept()): plain TCP, made non-blocking.
  static Connection adopt(int fd);
  // The TLS handshake on an open plain connection before any byte went over it, as
  // connect() does with tls.enabled (tls.enabled itself is not looked at): for a
  // caller that wants its own deadline for the handshake.
  Status start_tls(const TlsOptions& tls, const std::string& host, DeadlineUs deadline, const Waker* waker = nullptr);

  // Writes every byte, waiting for the socket to take them.
  Status send_all(std::span<const std::uint8_t> bytes, DeadlineUs deadline, const Waker* waker = nullptr);
  Status send_all(std::string_view bytes, DeadlineUs deadline, const Waker* waker = nullptr);
  // Reads what is available, up to buffer.size() bytes (> 0), waiting for the first byte.
  ReadResult read_some(std::span<std::uint8_t> buffer, DeadlineUs deadline, const Waker* waker = nullptr);
  ReadResult read_some(std::span<char> buffer, DeadlineUs deadline, const Waker* waker = nullptr);
  // Waits until read_some() would not block (pending() bytes count as readable).
  WaitResult wait_readable(DeadlineUs deadline, const Waker* waker = nullptr) const;

  // Decrypted TLS bytes already buffered: read_some() returns them without the socket.
  bool pending() const;
  bool is_open() const { return fd_ >= 0; }
  bool is_tls() const { return tls_ != nullptr; }
  int fd() const { return fd_; }
  // TLS: sends close_notify if it can without waiting. Then closes the socket. Idempotent.
  void close();

 private:
  explicit Connection(int fd);
  ReadResult read_once(std::uint8_t* data, std::size_t size, short& want);
  Status send_once(const std::uint8_t* data, std::size_t size, std::size_t& sent, short& want);

  int fd_ = -1;
  std::unique_ptr<TlsSession> tls_;
};

}  // namespace uc::net
