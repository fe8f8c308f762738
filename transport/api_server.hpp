#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "codecs/expected.hpp"

namespace kesm::transport {

/// One HTTP request to the control plane, as the registry sees it.
struct api_request {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  std::string body;
};

/// The answer. A non-empty `error_type` becomes the `x-amzn-ErrorType`
/// header, as Lambda sends it.
struct api_reply {
  int status = 200;
  std::string body;
  std::string error_type;
  std::string content_type = "application/json";
};

/// What the control plane lets in (`kesm serve` flags and config).
struct api_guard {
  /// Most body bytes kept, after any Content-Encoding is undone.
  size_t max_body = 1 << 20;
  /// A request (headers and body) must arrive within this from its first
  /// byte; an idle kept-alive connection is closed after `keep_alive`.
  std::chrono::seconds request_timeout{10};
  std::chrono::seconds keep_alive{5};
  /// Open connections one client address may hold; more are refused.
  size_t max_connections_per_client = 16;
  /// Threads serving connections (each holds one connection at a time).
  size_t threads = 32;
  /// Browser origins allowed to call the API (`Origin` header); a request
  /// with any other `Origin` is refused. Same-origin pages always work.
  std::vector<std::string> allowed_origins;
  /// `--api-token`: every request but /healthz and /readyz must carry
  /// `Authorization: Bearer <token>`. Empty: not required.
  std::string token;
  /// `--api-auth sigv4`: access key id -> secret key; every request but
  /// /healthz and /readyz must be signed (SigV4, service `lambda`) with
  /// one of them. Empty: not required.
  std::map<std::string, std::string> sigv4_keys;
};

/// The control plane's HTTP server (cpp-httplib): every request goes to
/// one handler, which must be thread-safe (it asks the mapping registry
/// actor and waits for its answer).
///
/// Hardened against hostile clients: bodies capped whatever their
/// encoding, slow clients cut off by a whole-request deadline, a per-client
/// connection limit, cross-site browser requests refused, optional token
/// or SigV4 authentication; every error carries Lambda's error shape.
///
/// Lifecycle: `start` binds and serves on a background thread; the
/// destructor stops serving.
class api_server {
public:
  using handler = std::function<api_reply(const api_request&)>;

  explicit api_server(handler h, api_guard guard = {});
  ~api_server();

  api_server(const api_server&) = delete;
  api_server& operator=(const api_server&) = delete;

  /// Binds to `host:port` (port 0: the OS picks); returns the port.
  codecs::expected<int> start(const std::string& host, int port);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::thread thread_;
};

} // namespace kesm::transport
