#include "api/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "telemetry/log.h"

namespace uc::api {

namespace {

constexpr int kMaxEvents = 128;
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr int kReadsPerEvent = 4;  // then other connections get their turn
constexpr std::int64_t kAcceptPauseUs = 100'000;
constexpr std::int64_t kMaxWaitUs = 1'000'000;

std::int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string address_text(const sockaddr_storage& addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr, buf, sizeof(buf));
  } else if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr, buf, sizeof(buf));
  }
  return buf;
}

Response run_handler(const HttpServer::Handler& handler, const ParsedRequest& request) {
  try {
    return handler(request);
  } catch (const std::exception& e) {
    telemetry::get_logger("api")->error("handler failed {} {}", telemetry::kv("path", request.path),
                                        telemetry::kv("error", e.what()));
  } catch (...) {
    telemetry::get_logger("api")->error("handler failed {}", telemetry::kv("path", request.path));
  }
  return Response::error(500, "internal error");
}

// Binds and listens on host:port (non-blocking). The port actually bound goes to *port.
Status listen_on(const std::string& host_in, int port_in, int backlog, int* fd_out, int* port_out) {
  std::string host = host_in;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string where = host_in + ":" + std::to_string(port_in);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(port_in);
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port_text.c_str(), &hints, &found); rc != 0) {
    return unavailable("cannot listen on " + where + ": " + gai_strerror(rc));
  }
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) {
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, backlog) != 0) err = errno;
  }
  freeaddrinfo(found);
  if (err != 0) {
    if (fd >= 0) ::close(fd);
    return unavailable("cannot listen on " + where + ": " + std::strerror(err));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  *port_out = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  *fd_out = fd;
  return Status::ok();
}

// A fixed set of threads running posted jobs in order; stop() drops what has not started.
class WorkerPool {
 public:
  void start(std::size_t n) {
    for (std::size_t i = 0; i < std::max<std::size_t>(n, 1); ++i) {
      threads_.emplace_back([this] {
        pthread_setname_np(pthread_self(), "uc-api-worker");
        run();
      });
    }
  }
  void post(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      jobs_.clear();
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};

}  // namespace

struct HttpServer::Loop {
  struct Conn {
    std::uint64_t id;
    int fd;
    std::string client;
    HttpConnection http;
    bool shut_write = false;
    bool failed = false;  // a socket error: close without more I/O
    std::uint32_t events = 0;
  };

  Loop(const Options& o, const Handler& h, const InlineFilter& f) : options(o), handler(h), run_inline(f) {}

  void run();
  void accept_all();
  bool make_room(const std::string& client);
  bool evict_idle(const std::string& client);
  void add_connection(int fd, std::string client);
  void on_events(int fd, std::uint32_t events);
  void read_some(Conn& c);
  void flush(Conn& c);
  void dispatch(Conn& c, ParsedRequest request);
  void sync(Conn& c);
  void update_interest(Conn& c);
  void close_connection(Conn& c);
  void deliver_responses();
  void apply_deadlines();
  int wait_ms() const;
  void set_accepting(bool on);
  void wake();

  const Options& options;
  const Handler& handler;
  const InlineFilter& run_inline;
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::unordered_map<int, std::unique_ptr<Conn>> conns;  // by fd
  std::unordered_map<std::uint64_t, int> fd_by_id;
  std::unordered_map<std::string, std::size_t> per_client;
  std::uint64_t next_id = 1;
  bool accepting = true;
  std::int64_t accept_paused_until_us = 0;
  std::mutex done_mu;
  std::vector<std::pair<std::uint64_t, Response>> done;
  WorkerPool workers;
  std::atomic<std::uint64_t> accepted{0}, refused{0}, evicted{0}, timed_out{0};
  std::atomic<std::size_t> open{0};
};

void HttpServer::Loop::wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_fd, &one, sizeof(one));
}

void HttpServer::Loop::run() {
  pthread_setname_np(pthread_self(), "uc-api-loop");
  epoll_event events[kMaxEvents];
  while (!stopping.load()) {
    const int n = epoll_wait(epoll_fd, events, kMaxEvents, wait_ms());
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listen_fd) {
        accept_all();
      } else if (fd == wake_fd) {
        std::uint64_t count = 0;
        [[maybe_unused]] const auto r = ::read(wake_fd, &count, sizeof(count));
        deliver_responses();
      } else {
        on_events(fd, events[i].events);
      }
    }
    apply_deadlines();
    if (!accepting && steady_us() >= accept_paused_until_us) set_accepting(true);
  }
  while (!conns.empty()) close_connection(*conns.begin()->second);
  ::close(listen_fd);
  listen_fd = -1;
}

// How long epoll may sleep: until the nearest connection deadline, at most a second.
int HttpServer::Loop::wait_ms() const {
  std::int64_t next = steady_us() + kMaxWaitUs;
  for (const auto& [fd, c] : conns) next = std::min(next, c->http.deadline_us());
  if (!accepting) next = std::min(next, accept_paused_until_us);
  const std::int64_t left = next - steady_us();
  return left <= 0 ? 0 : static_cast<int>((left + 999) / 1000);
}

void HttpServer::Loop::set_accepting(bool on) {
  if (accepting == on) return;
  accepting = on;
  epoll_event ev{};
  ev.events = on ? static_cast<std::uint32_t>(EPOLLIN) : 0u;
  ev.data.fd = listen_fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &ev);
  if (!on) accept_paused_until_us = steady_us() + kAcceptPauseUs;
}

void HttpServer::Loop::accept_all() {
  for (;;) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    const int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // Out of descriptors: make room by closing an idle connection, else pause accepting
      // (level-triggered epoll would otherwise spin on the pending connection).
      if ((errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) && evict_idle({})) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) set_accepting(false);
      return;
    }
    std::string client = address_text(addr);
    if (!make_room(client)) {
      refused.fetch_add(1);  // before the close, which the client may see at once
      ::close(fd);
      continue;
    }
    add_connection(fd, std::move(client));
  }
}

bool HttpServer::Loop::make_room(const std::string& client) {
  const auto it = per_client.find(client);
  if (it != per_client.end() && it->second >= options.max_connections_per_client && !evict_idle(client)) return false;
  return conns.size() < options.max_connections || evict_idle({});
}

// Closes the connection that has waited longest for a request (of `client`, or of anyone
// when empty). False when no connection is idle.
bool HttpServer::Loop::evict_idle(const std::string& client) {
  Conn* oldest = nullptr;
  for (auto& [fd, c] : conns) {
    if (!c->http.idle() || (!client.empty() && c->client != client)) continue;
    if (oldest == nullptr || c->http.deadline_us() < oldest->http.deadline_us()) oldest = c.get();
  }
  if (oldest == nullptr) return false;
  evicted.fetch_add(1);
  close_connection(*oldest);
  return true;
}

void HttpServer::Loop::add_connection(int fd, std::string client) {
  const int yes = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  auto conn = std::make_unique<Conn>(Conn{next_id++, fd, std::move(client),
                                          HttpConnection(options.limits, options.timeouts, steady_us())});
  ++per_client[conn->client];
  fd_by_id[conn->id] = fd;
  Conn& c = *conn;
  conns[fd] = std::move(conn);
  accepted.fetch_add(1);
  open.store(conns.size());
  epoll_event ev{};
  ev.data.fd = fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  update_interest(c);
}

void HttpServer::Loop::on_events(int fd, std::uint32_t events) {
  const auto it = conns.find(fd);
  if (it == conns.end()) return;
  Conn& c = *it->second;
  if ((events & EPOLLERR) != 0) c.failed = true;
  if (!c.failed && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) != 0 && c.http.wants_read()) read_some(c);
  if ((events & EPOLLHUP) != 0 && !c.http.wants_read()) c.failed = true;  // gone both ways: nobody to answer
  sync(c);
}

void HttpServer::Loop::read_some(Conn& c) {
  char buf[kReadChunk];
  for (int i = 0; i < kReadsPerEvent && c.http.wants_read(); ++i) {
    const ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
    if (n > 0) {
      c.http.on_bytes(std::string_view(buf, static_cast<std::size_t>(n)), steady_us());
      continue;
    }
    if (n == 0) {
      c.http.on_peer_eof(steady_us());
    } else if (errno == EINTR) {
      continue;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
      c.failed = true;
    }
    return;
  }
}

void HttpServer::Loop::flush(Conn& c) {
  while (!c.failed && !c.http.output().empty()) {
    const auto out = c.http.output();
    const ssize_t n = ::send(c.fd, out.data(), out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      c.http.on_sent(static_cast<std::size_t>(n), steady_us());
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    } else {
      c.failed = true;
    }
  }
}

void HttpServer::Loop::dispatch(Conn& c, ParsedRequest request) {
  if (run_inline && run_inline(request)) {
    c.http.on_response(run_handler(handler, request), steady_us());
    return;
  }
  workers.post([this, id = c.id, request = std::move(request)] {
    Response response = run_handler(handler, request);
    {
      std::lock_guard<std::mutex> lock(done_mu);
      done.emplace_back(id, std::move(response));
    }
    wake();
  });
}

// After any input to a connection: write what it has, hand out its request, half-close
// or close it as it asks, and watch the socket for what it waits for.
void HttpServer::Loop::sync(Conn& c) {
  for (;;) {
    flush(c);
    if (c.failed || c.http.closed()) break;
    auto request = c.http.take_request();
    if (!request) break;
    dispatch(c, std::move(*request));
  }
  if (!c.failed && c.http.wants_shutdown() && !c.shut_write) {
    ::shutdown(c.fd, SHUT_WR);
    c.shut_write = true;
  }
  if (c.failed || c.http.closed()) {
    close_connection(c);
    return;
  }
  update_interest(c);
}

void HttpServer::Loop::update_interest(Conn& c) {
  std::uint32_t events = 0;
  if (c.http.wants_read()) events |= EPOLLIN | EPOLLRDHUP;
  if (!c.http.output().empty()) events |= EPOLLOUT;
  if (events == c.events) return;
  c.events = events;
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = c.fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev);
}

void HttpServer::Loop::close_connection(Conn& c) {
  const int fd = c.fd;
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  if (auto it = per_client.find(c.client); it != per_client.end() && --it->second == 0) per_client.erase(it);
  fd_by_id.erase(c.id);
  conns.erase(fd);  // c is gone from here on
  open.store(conns.size());
  if (!accepting && !stopping.load()) set_accepting(true);
}

void HttpServer::Loop::deliver_responses() {
  std::vector<std::pair<std::uint64_t, Response>> ready;
  {
    std::lock_guard<std::mutex> lock(done_mu);
    ready.swap(done);
  }
  for (auto& [id, response] : ready) {
    const auto it = fd_by_id.find(id);
    if (it == fd_by_id.end()) continue;  // the client left while its request ran
    Conn& c = *conns.at(it->second);
    c.http.on_response(response, steady_us());
    sync(c);
  }
}

void HttpServer::Loop::apply_deadlines() {
  const std::int64_t now = steady_us();
  std::vector<int> due;
  for (const auto& [fd, c] : conns) {
    if (c->http.deadline_us() <= now) due.push_back(fd);
  }
  for (int fd : due) {
    const auto it = conns.find(fd);
    if (it == conns.end()) continue;
    Conn& c = *it->second;
    const bool mid_request = c.http.phase() == HttpConnection::Phase::kReading && !c.http.idle();
    c.http.on_tick(now);
    if (mid_request && c.http.phase() == HttpConnection::Phase::kWriting) timed_out.fetch_add(1);
    sync(c);
  }
}

HttpServer::HttpServer(Options options, Handler handler, InlineFilter run_inline)
    : options_(std::move(options)), handler_(std::move(handler)), run_inline_(std::move(run_inline)) {}

HttpServer::~HttpServer() {
  stop();
}

Status HttpServer::start() {
  if (loop_) return Status(StatusCode::kFailedPrecondition, "HTTP server already started");
  auto loop = std::make_unique<Loop>(options_, handler_, run_inline_);
  int port = 0;
  if (Status s = listen_on(options_.host, options_.port, options_.backlog, &loop->listen_fd, &port); !s.is_ok()) {
    return s;
  }
  loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (loop->epoll_fd < 0 || loop->wake_fd < 0) {
    const int err = errno;
    for (int fd : {loop->listen_fd, loop->epoll_fd, loop->wake_fd}) {
      if (fd >= 0) ::close(fd);
    }
    return unavailable(std::string("cannot start the HTTP server: ") + std::strerror(err));
  }
  for (int fd : {loop->listen_fd, loop->wake_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  }
  loop->workers.start(options_.workers);
  Loop* raw = loop.get();
  loop->thread = std::thread([raw] { raw->run(); });
  loop_ = std::move(loop);
  port_ = port;
  return Status::ok();
}

void HttpServer::stop() {
  if (!loop_) return;
  loop_->stopping = true;
  loop_->wake();
  if (loop_->thread.joinable()) loop_->thread.join();
  loop_->workers.stop();
  ::close(loop_->epoll_fd);
  ::close(loop_->wake_fd);
  loop_.reset();
  port_ = 0;
}

HttpServer::Stats HttpServer::stats() const {
  Stats s;
  if (!loop_) return s;
  s.accepted = loop_->accepted.load();
  s.refused = loop_->refused.load();
  s.evicted = loop_->evicted.load();
  s.timed_out = loop_->timed_out.load();
  s.open = loop_->open.load();
  return s;
}

}  // namespace uc::api
