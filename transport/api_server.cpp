#include "transport/api_server.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <ctime>
#include <mutex>

#include <httplib.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "codecs/event_writer.hpp"
#include "codecs/mapping_config.hpp"
#include "codecs/mapping_json.hpp"
#include "transport/aws/sigv4.hpp"
#include "transport/socket_stream.hpp"
#include "transport/sockets.hpp"

namespace kesm::transport {

namespace {

using clock_type = std::chrono::steady_clock;

/// Milliseconds left until `deadline`, at least 0.
int remaining_ms(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - clock_type::now())
                  .count();
  return static_cast<int>(std::max<int64_t>(0, left));
}

std::string peer_ip(int sock) {
  std::string ip;
  int port = 0;
  ip_and_port(sock, true, ip, port);
  return ip;
}

/// A socket whose reads all end by one deadline: a client sending a
/// header byte every few seconds is cut off when its request is late.
class deadline_stream : public socket_stream {
public:
  deadline_stream(int sock, clock_type::time_point deadline)
      : socket_stream(sock), deadline_(deadline) {
    // nop
  }
  bool is_readable() const override {
    return wait_for(sock_, POLLIN, remaining_ms(deadline_));
  }
  bool is_writable() const override {
    return wait_for(sock_, POLLOUT, 5000);
  }
  ssize_t read(char* ptr, size_t size) override {
    if (!is_readable()) {
      timed_out_ = true;
      return -1;
    }
    ssize_t n;
    do {
      n = ::recv(sock_, ptr, size, 0);
    } while (n < 0 && errno == EINTR);
    return n;
  }
  ssize_t write(const char* ptr, size_t size) override {
    return is_writable() ? socket_stream::write(ptr, size) : -1;
  }

  /// A read ran into the deadline: the connection is done with.
  bool timed_out() const noexcept {
    return timed_out_;
  }

private:
  clock_type::time_point deadline_;
  bool timed_out_ = false;
};

/// Set by a handler that answered without reading the whole request: the
/// connection cannot carry another request.
thread_local bool close_after_reply = false;

/// cpp-httplib's server with kesm's connection loop: per-request deadline
/// and a per-client connection limit.
class guarded_server : public httplib::Server {
public:
  explicit guarded_server(const api_guard& g) : guard_(g) {
    // nop
  }

private:
  bool process_and_close_socket(int sock) override {
    auto ip = peer_ip(sock);
    bool admitted;
    {
      std::lock_guard<std::mutex> lock{mtx_};
      admitted = ++open_[ip] <= guard_.max_connections_per_client;
    }
    if (admitted)
      serve(sock);
    else
      refuse(sock);
    {
      std::lock_guard<std::mutex> lock{mtx_};
      if (--open_[ip] == 0)
        open_.erase(ip);
    }
    linger_close(sock);
    return true;
  }

  /// Closes after the client has had the answer: what it still sends (an
  /// oversize body) is read and dropped for a moment, so the close is not
  /// a reset that could destroy the answer in flight.
  static void linger_close(int sock) {
    ::shutdown(sock, SHUT_WR);
    auto until = clock_type::now() + std::chrono::milliseconds(500);
    char buf[16384];
    size_t drained = 0;
    while (drained < (4u << 20)
           && wait_for(sock, POLLIN, remaining_ms(until))) {
      auto n = ::recv(sock, buf, sizeof(buf), 0);
      if (n <= 0)
        break;
      drained += static_cast<size_t>(n);
    }
    ::close(sock);
  }

  void serve(int sock) {
    auto first_wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        guard_.request_timeout);
    auto idle_wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        guard_.keep_alive);
    for (int count = 100; count > 0 && is_running(); --count) {
      if (!wait_for(sock, POLLIN,
                    static_cast<int>(count == 100 ? first_wait.count()
                                                  : idle_wait.count())))
        return;
      deadline_stream strm(sock, clock_type::now() + guard_.request_timeout);
      close_after_reply = false;
      bool closed = false;
      bool ok = process_request(strm, count == 1 || !is_running(), closed,
                                [](httplib::Request&) {
                                  // nop
                                });
      if (!ok || closed || close_after_reply || strm.timed_out())
        return;
    }
  }

  static void refuse(int sock) {
    static const std::string body
        = "{\"Type\":\"User\",\"message\":\"Too many open connections from"
          " this address; close some and retry\"}";
    static const std::string reply
        = "HTTP/1.1 429 Too Many Requests\r\n"
          "Content-Type: application/json\r\n"
          "x-amzn-ErrorType: TooManyRequestsException\r\n"
          "Connection: close\r\nContent-Length: "
          + std::to_string(body.size()) + "\r\n\r\n" + body;
    ::send(sock, reply.data(), reply.size(), MSG_NOSIGNAL);
  }

  const api_guard& guard_;
  std::mutex mtx_;
  std::map<std::string, size_t> open_;
};

/// Lambda's error shape: `{"Type":..,"message":..}` and x-amzn-ErrorType.
void set_error(httplib::Response& res, int status, const char* type,
               const std::string& message) {
  res.status = status;
  auto body = codecs::error_body(status >= 500 ? "Service" : "User", message);
  if (!res.has_header("x-amzn-ErrorType"))
    res.set_header("x-amzn-ErrorType", type);
  res.set_content(body, "application/json");
}

/// Error type and message for an answer httplib made itself.
std::pair<const char*, std::string> default_error(int status) {
  switch (status) {
  case 400:
    return {"InvalidRequestContentException",
            "The request could not be parsed; send a valid HTTP/1.1"
            " request"};
  case 403:
    return {"AccessDeniedException", "Access denied"};
  case 404:
    return {"ResourceNotFoundException", "No such resource"};
  case 405:
    return {"InvalidParameterValueException",
            "Method not allowed; use GET, POST, PUT or DELETE"};
  case 411:
    return {"InvalidRequestContentException", "Content-Length is required"};
  case 413:
    return {"RequestTooLargeException",
            "Request must be smaller than 1048576 bytes"};
  case 414:
    return {"InvalidRequestContentException", "The request URI is too long"};
  case 415:
    return {"UnsupportedMediaTypeException",
            "Unsupported Content-Encoding; send the body uncompressed or"
            " gzip"};
  default:
    return {status >= 500 ? "ServiceException"
                          : "InvalidRequestContentException",
            "Request failed with HTTP " + std::to_string(status)};
  }
}

bool open_path(const std::string& path) {
  // "/" is the dashboard's static page: it holds no data (it asks
  // /kesm/status, which is guarded like the API).
  return path == "/healthz" || path == "/readyz" || path == "/";
}

bool equal_consttime(const std::string& a, const std::string& b) {
  if (a.size() != b.size())
    return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

} // namespace

struct api_server::impl {
  explicit impl(api_guard g) : guard(std::move(g)), server(guard) {
    // nop
  }
  api_guard guard;
  guarded_server server;
  handler fn;

  /// Pre-routing checks that need no body: size, encoding, origin, token.
  bool refuse_early(const httplib::Request& req, httplib::Response& res);
  /// SigV4 check, with the body read; true when refused.
  bool refuse_signature(const httplib::Request& req, const std::string& body,
                        httplib::Response& res);
  void serve(const httplib::Request& req, httplib::Response& res,
             std::string body);
};

bool api_server::impl::refuse_early(const httplib::Request& req,
                                    httplib::Response& res) {
  if (req.has_header("Content-Length")) {
    auto len = req.get_header_value("Content-Length");
    char* end = nullptr;
    auto n = std::strtoull(len.c_str(), &end, 10);
    if (end == len.c_str() || *end != '\0' || n > guard.max_body) {
      close_after_reply = true;
      set_error(res, 413, "RequestTooLargeException",
                "Request must be smaller than " + std::to_string(guard.max_body)
                    + " bytes");
      return true;
    }
  }
  auto enc = req.get_header_value("Content-Encoding");
  if (!enc.empty() && enc != "identity" && enc != "gzip") {
    close_after_reply = true;
    set_error(res, 415, "UnsupportedMediaTypeException",
              "Unsupported Content-Encoding " + enc.substr(0, 32)
                  + "; send the body uncompressed or gzip");
    return true;
  }
  if (req.has_header("Origin")) {
    auto origin = req.get_header_value("Origin");
    auto self = "http://" + req.get_header_value("Host");
    bool allowed = origin == self
                   || std::find(guard.allowed_origins.begin(),
                                guard.allowed_origins.end(), origin)
                          != guard.allowed_origins.end();
    if (!allowed) {
      close_after_reply = true;
      set_error(res, 403, "AccessDeniedException",
                "Cross-site request from Origin " + origin.substr(0, 100)
                    + " refused; allow it with --api-allow-origin");
      return true;
    }
  }
  if (!guard.token.empty() && !open_path(req.path)) {
    auto auth = req.get_header_value("Authorization");
    if (!equal_consttime(auth, "Bearer " + guard.token)) {
      close_after_reply = true;
      set_error(res, 403, "MissingAuthenticationTokenException",
                "Missing or wrong API token; send Authorization: Bearer"
                " <token> (kesm serve --api-token)");
      return true;
    }
  }
  return false;
}

bool api_server::impl::refuse_signature(const httplib::Request& req,
                                        const std::string& body,
                                        httplib::Response& res) {
  if (guard.sigv4_keys.empty() || open_path(req.path))
    return false;
  auto deny = [&](const char* type, const std::string& msg) {
    set_error(res, 403, type, msg);
    return true;
  };
  auto header = req.get_header_value("Authorization");
  if (header.empty())
    return deny("MissingAuthenticationTokenException",
                "Missing Authentication Token: sign the request with SigV4"
                " (kesm serve --api-auth sigv4)");
  auto auth = aws::parse_authorization(header);
  if (!auth)
    return deny("IncompleteSignatureException", auth.err().message);
  auto key = guard.sigv4_keys.find(auth->access_key);
  if (key == guard.sigv4_keys.end())
    return deny("UnrecognizedClientException",
                "The security token included in the request is invalid");
  auto amz_date = req.get_header_value("X-Amz-Date");
  auto when = aws::parse_amz_date(amz_date);
  auto now = static_cast<int64_t>(std::time(nullptr));
  if (when < 0 || std::llabs(now - when) > 15 * 60
      || amz_date.substr(0, 8) != auth->date)
    return deny("InvalidSignatureException",
                "Signature expired or X-Amz-Date missing: the request time"
                " must be within 15 minutes of the server's");
  if (auth->service != "lambda")
    return deny("InvalidSignatureException",
                "Credential should be scoped to correct service: 'lambda'");
  aws::signable_request sr;
  sr.method = req.method;
  auto q = req.target.find('?');
  sr.raw_path = req.target.substr(0, q);
  sr.raw_query = q == std::string::npos ? "" : req.target.substr(q + 1);
  for (auto& [k, v] : req.headers)
    sr.headers.emplace(k, v);
  auto hash = req.get_header_value("X-Amz-Content-Sha256");
  sr.payload_hash = hash.empty() ? aws::sha256_hex(body) : hash;
  auto canonical = aws::canonical_request(sr, auth->signed_headers);
  auto expected = aws::signature(key->second, amz_date, auth->date,
                                 auth->region, auth->service, canonical);
  if (!equal_consttime(expected, auth->signature))
    return deny("InvalidSignatureException",
                "The request signature we calculated does not match the"
                " signature you provided. Check your AWS Secret Access Key"
                " and signing method.");
  return false;
}

void api_server::impl::serve(const httplib::Request& req,
                             httplib::Response& res, std::string body) {
  // As Lambda does: SDKs log it with every call and error.
  res.set_header("x-amzn-RequestId", codecs::make_uuid());
  if (refuse_signature(req, body, res))
    return;
  api_request r;
  r.method = req.method;
  r.path = req.path;
  for (auto& [k, v] : req.params)
    r.query[k] = v;
  r.body = std::move(body);
  auto reply = fn(r);
  if (reply.status >= 400 && reply.body.empty()) {
    auto [type, msg] = default_error(reply.status);
    set_error(res, reply.status,
              reply.error_type.empty() ? type : reply.error_type.c_str(), msg);
    return;
  }
  res.status = reply.status;
  if (!reply.error_type.empty())
    res.set_header("x-amzn-ErrorType", reply.error_type);
  res.set_content(reply.body, reply.content_type.c_str());
}

api_server::api_server(handler h, api_guard guard)
    : impl_(std::make_unique<impl>(std::move(guard))) {
  impl_->fn = std::move(h);
  auto& srv = impl_->server;
  auto* self = impl_.get();
  srv.set_payload_max_length(self->guard.max_body);
  srv.set_tcp_nodelay(true);
  srv.set_read_timeout(self->guard.request_timeout);
  srv.set_write_timeout(std::chrono::seconds(5));
  auto threads = self->guard.threads;
  srv.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  srv.set_pre_routing_handler(
      [self](const httplib::Request& req, httplib::Response& res) {
        return self->refuse_early(req, res)
                   ? httplib::Server::HandlerResponse::Handled
                   : httplib::Server::HandlerResponse::Unhandled;
      });
  auto plain = [self](const httplib::Request& req, httplib::Response& res) {
    self->serve(req, res, {});
  };
  // Bodies are read here, capped after decoding (gzip or chunked bodies
  // have no Content-Length to refuse them by).
  auto with_body = [self](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& read) {
    std::string body;
    bool too_big = false;
    bool ok = read([&](const char* data, size_t n) {
      if (body.size() + n > self->guard.max_body) {
        too_big = true;
        return false;
      }
      body.append(data, n);
      return true;
    });
    if (!ok || too_big) {
      close_after_reply = true;
      if (too_big)
        set_error(res, 413, "RequestTooLargeException",
                  "Request must be smaller than "
                      + std::to_string(self->guard.max_body)
                      + " bytes (after decoding)");
      else
        set_error(res, 400, "InvalidRequestContentException",
                  "The request body could not be read; send it complete,"
                  " uncompressed or gzip");
      return;
    }
    self->serve(req, res, std::move(body));
  };
  srv.Get(".*", plain);
  srv.Delete(".*", plain);
  srv.Options(".*", plain);
  srv.Post(".*", with_body);
  srv.Put(".*", with_body);
  srv.Patch(".*", with_body);
  srv.Delete(".*", with_body);
  srv.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty())
          return httplib::Server::HandlerResponse::Unhandled;
        auto [type, msg] = default_error(res.status);
        set_error(res, res.status, type, msg);
        return httplib::Server::HandlerResponse::Handled;
      }));
  srv.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        set_error(res, 500, "ServiceException", "internal error");
      });
}

api_server::~api_server() {
  impl_->server.stop();
  if (thread_.joinable())
    thread_.join();
}

codecs::expected<int> api_server::start(const std::string& host, int port) {
  auto& srv = impl_->server;
  int bound = port == 0 ? srv.bind_to_any_port(host)
                        : (srv.bind_to_port(host, port) ? port : -1);
  if (bound <= 0)
    return codecs::error{codecs::errc::invalid_parameter,
                         "cannot listen on " + host + ":" + std::to_string(port)
                             + " (in use, or not an address of this machine);"
                               " pick another with --api HOST:PORT"};
  thread_ = std::thread([this] { impl_->server.listen_after_bind(); });
  while (!srv.is_running())
    std::this_thread::yield();
  return bound;
}

} // namespace kesm::transport
