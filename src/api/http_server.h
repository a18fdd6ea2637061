// The HTTP/1.1 server under the API: one epoll loop thread does all socket I/O for every
// connection (HttpConnection, sans-IO), a pool of worker threads runs the handlers.
// ADR 0007 says why it is ours and not cpp-httplib's thread-per-connection model.
//
// Why a slow or idle client cannot starve others: no thread ever waits on one client.
// A request must arrive whole within request_us of its first byte (408 and closed
// otherwise), an idle keep-alive connection is closed after idle_us, a response that
// makes no progress for write_us is dropped. Connections are capped in total and per
// client address; at a cap the longest-idle connection (of that client, at the
// per-client cap) is closed to make room, and when none is idle the new connection is
// closed at once (counted in Stats::refused). Requests marked by the inline filter
// (cheap ones: the health routes) run on the loop thread itself, so they are answered
// while every worker is busy.
//
// Threads: start() binds on the caller's thread; the loop and the workers run until
// stop(), which closes every connection, waits for handlers in flight and is idempotent.
// Handlers run concurrently on the workers and must be thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/http.h"
#include "api/http_connection.h"
#include "api/http_parser.h"
#include "core/status.h"

namespace uc::api {

class HttpServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 0;  // 0: an ephemeral port, see port()
    HttpLimits limits;
    HttpTimeouts timeouts;
    std::size_t max_connections = 1024;
    std::size_t max_connections_per_client = 256;
    std::size_t workers = 8;
    int backlog = 512;
  };
  using Handler = std::function<Response(const ParsedRequest&)>;
  using InlineFilter = std::function<bool(const ParsedRequest&)>;

  struct Stats {
    std::uint64_t accepted = 0;
    std::uint64_t refused = 0;    // closed at once: at a cap with nothing idle to close
    std::uint64_t evicted = 0;    // idle connections closed to make room
    std::uint64_t timed_out = 0;  // requests answered 408
    std::size_t open = 0;
  };

  HttpServer(Options options, Handler handler, InlineFilter run_inline = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // UNAVAILABLE when host:port cannot be bound; FAILED_PRECONDITION when started twice.
  Status start();
  void stop();
  int port() const { return port_.load(); }
  Stats stats() const;

 private:
  struct Loop;
  Options options_;
  Handler handler_;
  InlineFilter run_inline_;
  std::unique_ptr<Loop> loop_;
  std::atomic<int> port_{0};
};

}  // namespace uc::api
