#include "transport/plain_http.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/uio.h>
#include <unistd.h>

namespace kesm::transport {

namespace {

using clock_type = std::chrono::steady_clock;

/// How long a name curl resolved is used (curl's DNS cache default).
constexpr auto learned_for = std::chrono::seconds(60);
/// Kept-alive sockets at most, all addresses together (curl's pool: 64).
constexpr size_t max_idle = 64;
/// An answer's head (status line and headers) at most.
constexpr size_t max_head_bytes = 64 * 1024;

bool header_is(const char* data, size_t n, const char* name) {
  auto len = std::strlen(name);
  return n >= len && strncasecmp(data, name, len) == 0;
}

/// The trimmed value of a header line whose name is `name`.
std::string header_value(const char* data, size_t n, const char* name) {
  std::string v(data + std::strlen(name), n - std::strlen(name));
  auto b = v.find_first_not_of(" \t");
  auto e = v.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : v.substr(b, e - b + 1);
}

bool numeric_address(const std::string& host, int port, sockaddr_storage& addr,
                     socklen_t& len) {
  std::memset(&addr, 0, sizeof addr);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

std::string address_key(const sockaddr_storage& addr) {
  char ip[INET6_ADDRSTRLEN] = "";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
    port = ntohs(v4->sin_port);
  } else {
    auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
    port = ntohs(v6->sin6_port);
  }
  return std::string(ip) + " " + std::to_string(port);
}

bool proxy_configured() {
  for (auto* name : {"http_proxy", "all_proxy", "ALL_PROXY"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0')
      return true;
  }
  return false;
}

/// A kept-alive socket still open and quiet (no stray bytes, no FIN).
bool still_usable(int fd) {
  char b;
  auto n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

} // namespace

bool parse_plain_url(const std::string& url, plain_endpoint& out) {
  constexpr const char* scheme = "http://";
  if (url.size() <= 7 || strncasecmp(url.c_str(), scheme, 7) != 0)
    return false;
  auto rest = url.substr(7);
  auto slash = rest.find_first_of("/?#");
  out.host_port = rest.substr(0, slash);
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (out.target[0] == '?')
    out.target = "/" + out.target;
  if (out.host_port.empty() || out.host_port.find('@') != std::string::npos
      || out.target.find('#') != std::string::npos)
    return false;
  std::string port;
  if (out.host_port[0] == '[') {
    auto close = out.host_port.find(']');
    if (close == std::string::npos)
      return false;
    out.host = out.host_port.substr(1, close - 1);
    if (close + 1 < out.host_port.size()) {
      if (out.host_port[close + 1] != ':')
        return false;
      port = out.host_port.substr(close + 2);
    }
  } else {
    auto colon = out.host_port.find(':');
    out.host = out.host_port.substr(0, colon);
    if (colon != std::string::npos)
      port = out.host_port.substr(colon + 1);
  }
  out.port = 80;
  if (port.empty() && out.host_port.back() == ':')
    out.host_port.pop_back(); // "http://host:/": the default port
  if (!port.empty()) {
    if (port.size() > 5
        || port.find_first_not_of("0123456789") != std::string::npos)
      return false;
    out.port = std::atoi(port.c_str());
    if (out.port <= 0 || out.port > 65535)
      return false;
    // The default port is left out of Host, as curl and the SigV4 signer
    // (which signs that header) leave it out.
    if (out.port == 80)
      out.host_port.resize(out.host_port.rfind(':'));
  }
  return !out.host.empty();
}

void read_answer_header(const char* data, size_t n, invocation_result& res) {
  if (header_is(data, n, "x-amz-function-error:")) {
    res.function_error = true;
    res.function_error_type
        = header_value(data, n, "x-amz-function-error:").substr(0, 64);
  } else if (header_is(data, n, "x-amz-executed-version:")) {
    res.executed_version
        = header_value(data, n, "x-amz-executed-version:").substr(0, 64);
  } else if (header_is(data, n, "x-amzn-errortype:")) {
    std::string v(data + std::strlen("x-amzn-errortype:"),
                  n - std::strlen("x-amzn-errortype:"));
    auto b = v.find_first_not_of(" \t");
    auto e = v.find_first_of(":\r\n", b); // "Code:http://..." -> "Code"
    if (b != std::string::npos)
      res.error_type = v.substr(b, e == std::string::npos ? e : e - b);
  } else if (header_is(data, n, "retry-after:")) {
    res.retry_after_ms
        = std::strtoll(data + std::strlen("retry-after:"), nullptr, 10) * 1000;
  }
}

struct plain_http::call {
  plain_endpoint ep;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::string key; // address_key(addr)
  std::string head;
  std::shared_ptr<const std::string> body;
  long timeout_ms = 0;
  clock_type::time_point deadline;
  invocation_callback done;
  invocation_result result;

  int fd = -1;
  bool reused = false;
  int attempt = 0; // 1 after the one retry
  bool connecting = false;
  size_t sent = 0; // bytes of head + body written
  bool got_any = false;

  // The answer.
  std::string in;
  size_t head_end = 0; // 0 until the head is complete
  bool chunked = false;
  bool close_after = false;
  bool to_eof = false;
  size_t length = 0; // Content-Length
  size_t parsed = 0; // chunked: bytes of `in` decoded so far
  std::string body_out;
  bool complete = false;

  size_t total() const {
    return head.size() + body->size();
  }
  void reset_answer() {
    in.clear();
    head_end = 0;
    chunked = close_after = to_eof = complete = false;
    length = parsed = 0;
    body_out.clear();
    got_any = false;
    result = invocation_result{};
  }
};

plain_http::plain_http() {
  const char* mode = std::getenv("KESM_HTTP_CLIENT");
  enabled_ = !(mode != nullptr && std::strcmp(mode, "curl") == 0)
             && !proxy_configured();
}

plain_http::~plain_http() {
  fail_all("kesm is shutting down");
  for (auto& [key, fds] : idle_)
    for (int fd : fds)
      ::close(fd);
}

bool plain_http::resolve(const plain_endpoint& ep, sockaddr_storage& addr,
                         socklen_t& len) {
  if (numeric_address(ep.host, ep.port, addr, len))
    return true;
  auto it = names_.find(ep.host_port);
  if (it == names_.end())
    return false;
  if (clock_type::now() - it->second.at > learned_for) {
    names_.erase(it);
    return false;
  }
  addr = it->second.addr;
  len = it->second.len;
  return true;
}

void plain_http::learn(const std::string& url, const char* ip, long port) {
  plain_endpoint ep;
  if (!enabled_ || ip == nullptr || port <= 0 || !parse_plain_url(url, ep))
    return;
  sockaddr_storage addr;
  socklen_t len;
  if (numeric_address(ep.host, ep.port, addr, len))
    return; // nothing to learn
  if (!numeric_address(ip, static_cast<int>(port), addr, len))
    return;
  if (names_.size() >= 1024)
    names_.clear(); // bounded: relearned from the next curl call
  names_[ep.host_port] = learned{addr, len, clock_type::now()};
}

bool plain_http::start(const std::string& url,
                       const std::vector<std::string>& headers,
                       std::shared_ptr<const std::string> body, long timeout_ms,
                       invocation_callback& done) {
  if (!enabled_)
    return false;
  auto c = std::make_unique<call>();
  if (!parse_plain_url(url, c->ep) || !resolve(c->ep, c->addr, c->addr_len))
    return false;
  c->key = address_key(c->addr);
  bool has_host = false;
  for (auto& h : headers)
    has_host |= header_is(h.data(), h.size(), "host:");
  c->head.reserve(256);
  c->head += "POST " + c->ep.target + " HTTP/1.1\r\n";
  if (!has_host)
    c->head += "Host: " + c->ep.host_port + "\r\n";
  c->head += "Accept: */*\r\nContent-Type: application/json\r\n"
             "Content-Length: "
             + std::to_string(body->size()) + "\r\n";
  for (auto& h : headers)
    c->head += h + "\r\n";
  c->head += "\r\n";
  c->body = std::move(body);
  c->timeout_ms = timeout_ms;
  c->deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  c->done = std::move(done);
  auto& ref = *c;
  calls_.push_back(std::move(c));
  if (open(ref))
    drive(ref, 0); // often sends the whole request at once
  return true;
}

bool plain_http::open(call& c) {
  auto it = idle_.find(c.key);
  while (it != idle_.end() && !it->second.empty()) {
    int fd = it->second.back();
    it->second.pop_back();
    --idle_count_;
    if (still_usable(fd)) {
      c.fd = fd;
      c.reused = true;
      c.connecting = false;
      return true;
    }
    ::close(fd);
  }
  c.reused = false;
  c.fd = ::socket(c.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  0);
  if (c.fd < 0) {
    fail(c, std::string("cannot open a socket: ") + std::strerror(errno));
    return false;
  }
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(c.fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&c.addr), c.addr_len)
      == 0) {
    c.connecting = false;
    return true;
  }
  if (errno == EINPROGRESS) {
    c.connecting = true;
    return true;
  }
  fail(c,
       "Failed to connect to " + c.ep.host_port + ": " + std::strerror(errno));
  return false;
}

void plain_http::retry_or_fail(call& c, const std::string& why) {
  // A kept-alive connection the server closed meanwhile: the request
  // never reached a handler that answered. Once, on a fresh connection.
  if (c.reused && !c.got_any && c.attempt == 0) {
    ::close(c.fd);
    c.fd = -1;
    ++c.attempt;
    c.sent = 0;
    c.reset_answer();
    // The retry takes a fresh connection: the others kept for this
    // address were most likely closed too.
    auto it = idle_.find(c.key);
    if (it != idle_.end()) {
      for (int fd : it->second)
        ::close(fd);
      idle_count_ -= it->second.size();
      idle_.erase(it);
    }
    if (open(c))
      drive(c, 0);
    return;
  }
  fail(c, why);
}

void plain_http::drive(call& c, short revents) {
  if (c.fd < 0 || c.complete)
    return;
  if (c.connecting) {
    if ((revents & (POLLOUT | POLLERR | POLLHUP)) == 0) {
      pollfd p{c.fd, POLLOUT, 0};
      if (::poll(&p, 1, 0) <= 0)
        return;
    }
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      fail(c, "Failed to connect to " + c.ep.host_port + ": "
                  + std::strerror(err));
      return;
    }
    c.connecting = false;
  }
  while (c.sent < c.total()) {
    iovec iov[2];
    int n_iov = 0;
    if (c.sent < c.head.size())
      iov[n_iov++]
          = {const_cast<char*>(c.head.data()) + c.sent, c.head.size() - c.sent};
    size_t body_at = c.sent > c.head.size() ? c.sent - c.head.size() : 0;
    if (body_at < c.body->size())
      iov[n_iov++] = {const_cast<char*>(c.body->data()) + body_at,
                      c.body->size() - body_at};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(n_iov);
    auto n = ::sendmsg(c.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The function may answer before it has read the whole request (a
      // 413 from a proxy in front of it, say): read what it sent.
      if ((revents & POLLIN) != 0)
        receive(c);
      return; // wait for POLLOUT (or POLLIN)
    }
    if (n < 0 && errno == EINTR)
      continue;
    // The connection broke while sending: an answer sent before that
    // counts (the 413 again); otherwise the call is retried or fails.
    auto why = std::string("Send failure: ") + std::strerror(errno);
    auto attempt = c.attempt;
    receive(c);
    if (!c.complete && c.attempt == attempt)
      retry_or_fail(c, why);
    return;
  }
  receive(c);
}

void plain_http::receive(call& c) {
  char buf[64 * 1024];
  for (;;) {
    auto n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return; // wait for POLLIN
      retry_or_fail(c, std::string("Recv failure: ") + std::strerror(errno));
      return;
    }
    if (n == 0) {
      if (c.to_eof && c.head_end > 0) {
        c.body_out = c.in.substr(c.head_end);
        c.close_after = true;
        finish(c);
      } else {
        retry_or_fail(c, c.got_any ? "the function closed the connection "
                                     "in the middle of its answer"
                                   : "Empty reply from server");
      }
      return;
    }
    c.got_any = true;
    c.in.append(buf, static_cast<size_t>(n));
    // The head.
    while (c.head_end == 0) {
      auto end = c.in.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (c.in.size() > max_head_bytes) {
          fail(c, "the function's answer has headers over 64 KB");
          return;
        }
        break;
      }
      if (c.in.size() < 12 || c.in.compare(0, 5, "HTTP/") != 0) {
        fail(c, "the function's answer is not HTTP");
        return;
      }
      int status = std::atoi(c.in.c_str() + 9);
      bool http10 = c.in.compare(0, 8, "HTTP/1.0") == 0;
      bool keep_alive_10 = false, has_length = false;
      size_t line = c.in.find("\r\n") + 2;
      while (line < end + 2) {
        auto next = c.in.find("\r\n", line);
        const char* d = c.in.data() + line;
        size_t len = next + 2 - line;
        if (header_is(d, len, "content-length:")) {
          has_length = true;
          c.length = std::strtoull(d + 15, nullptr, 10);
        } else if (header_is(d, len, "transfer-encoding:")) {
          auto v = header_value(d, len, "transfer-encoding:");
          c.chunked = strcasestr(v.c_str(), "chunked") != nullptr;
        } else if (header_is(d, len, "connection:")) {
          auto v = header_value(d, len, "connection:");
          c.close_after |= strcasecmp(v.c_str(), "close") == 0;
          keep_alive_10 |= strcasecmp(v.c_str(), "keep-alive") == 0;
        } else {
          read_answer_header(d, len, c.result);
        }
        line = next + 2;
      }
      if (status >= 100 && status < 200) { // 100 Continue and the like
        c.in.erase(0, end + 4);
        c.result = invocation_result{};
        c.chunked = c.close_after = false;
        c.length = 0;
        continue;
      }
      c.result.status = status;
      c.head_end = end + 4;
      c.parsed = c.head_end;
      if (http10 && !keep_alive_10)
        c.close_after = true;
      if (status == 204 || status == 304) {
        c.length = 0;
        c.chunked = false;
      } else if (!c.chunked && !has_length) {
        c.to_eof = true;
      }
      if (!c.chunked && !c.to_eof && c.length > max_answer_bytes) {
        fail_too_large(c);
        return;
      }
    }
    if (c.head_end == 0)
      continue;
    if (c.to_eof) {
      if (c.in.size() - c.head_end > max_answer_bytes) {
        fail_too_large(c);
        return;
      }
      continue;
    }
    if (!c.chunked) {
      if (c.in.size() - c.head_end >= c.length) {
        if (c.in.size() - c.head_end > c.length)
          c.close_after = true; // bytes past the answer: do not reuse
        c.body_out = c.in.substr(c.head_end, c.length);
        finish(c);
        return;
      }
      continue;
    }
    // Chunked: decode what is whole.
    for (;;) {
      auto eol = c.in.find("\r\n", c.parsed);
      if (eol == std::string::npos)
        break;
      size_t size = std::strtoull(c.in.c_str() + c.parsed, nullptr, 16);
      if (size == 0) {
        // Trailers, if any, end at an empty line.
        auto tail = c.in.find("\r\n\r\n", eol);
        if (tail == std::string::npos)
          break;
        tail += 4;
        if (c.in.size() > tail)
          c.close_after = true;
        finish(c);
        return;
      }
      if (c.body_out.size() + size > max_answer_bytes) {
        fail_too_large(c);
        return;
      }
      if (c.in.size() < eol + 2 + size + 2)
        break;
      c.body_out.append(c.in, eol + 2, size);
      c.parsed = eol + 2 + size + 2;
    }
  }
}

void plain_http::park(call& c) {
  if (c.close_after || idle_count_ >= max_idle) {
    ::close(c.fd);
  } else {
    idle_[c.key].push_back(c.fd);
    ++idle_count_;
  }
  c.fd = -1;
}

void plain_http::finish(call& c) {
  c.complete = true;
  if (c.sent < c.total())
    c.close_after = true; // answered early: the rest was never sent
  c.result.body = std::move(c.body_out);
  c.result.new_connections = c.reused ? 0 : 1;
  park(c);
}

void plain_http::fail(call& c, const std::string& why, bool timed_out) {
  if (c.fd >= 0)
    ::close(c.fd);
  c.fd = -1;
  c.result = invocation_result{};
  c.result.timed_out = timed_out;
  c.result.error = why;
  c.complete = true;
}

void plain_http::fail_too_large(call& c) {
  fail(c, answer_too_large_error());
  c.result.answer_too_large = true;
}

short plain_http::want(const call& c) {
  if (c.connecting)
    return POLLOUT;
  return static_cast<short>(c.sent < c.total() ? POLLOUT | POLLIN : POLLIN);
}

std::vector<plain_http::wait> plain_http::waits() const {
  std::vector<wait> out;
  out.reserve(calls_.size());
  for (auto& c : calls_)
    if (!c->complete && c->fd >= 0)
      out.push_back(wait{c->fd, want(*c)});
  return out;
}

void plain_http::service() {
  auto now = clock_type::now();
  // What is ready, asked of the kernel: curl's poll reports no POLLERR or
  // POLLHUP for the sockets it watches on our behalf.
  std::vector<pollfd> fds;
  fds.reserve(calls_.size());
  for (auto& c : calls_)
    fds.push_back(pollfd{c->complete ? -1 : c->fd, want(*c), 0});
  if (!fds.empty() && ::poll(fds.data(), fds.size(), 0) > 0)
    for (size_t i = 0; i < fds.size(); ++i)
      if (fds[i].revents != 0 && !calls_[i]->complete)
        drive(*calls_[i], fds[i].revents);
  for (auto& c : calls_)
    if (!c->complete && now >= c->deadline)
      fail(*c,
           "Operation timed out after " + std::to_string(c->timeout_ms)
               + " milliseconds",
           true);
  // Complete: callbacks last, with the list settled (a callback may post
  // a new call, which `http_client` queues for the next round).
  std::vector<std::unique_ptr<call>> done;
  auto keep = std::stable_partition(calls_.begin(), calls_.end(),
                                    [](const auto& c) { return !c->complete; });
  std::move(keep, calls_.end(), std::back_inserter(done));
  calls_.erase(keep, calls_.end());
  for (auto& c : done)
    c->done(std::move(c->result));
}

int plain_http::timeout_ms(int cap) const {
  auto now = clock_type::now();
  long best = cap;
  for (auto& c : calls_) {
    if (c->complete)
      return 0;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    c->deadline - now)
                    .count()
                + 1;
    best = std::min<long>(best, std::max<long>(left, 0));
  }
  return static_cast<int>(best);
}

void plain_http::fail_all(const std::string& why) {
  for (auto& c : calls_)
    if (!c->complete)
      fail(*c, why);
  auto calls = std::move(calls_);
  calls_.clear();
  for (auto& c : calls)
    c->done(std::move(c->result));
}

} // namespace kesm::transport
