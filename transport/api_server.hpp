#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

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

/// The control plane's HTTP server (cpp-httplib, its own thread pool):
/// every request goes to one handler, which must be thread-safe (it asks
/// the mapping registry actor and waits for its answer). Request bodies
/// are limited to 1 MB.
///
/// Lifecycle: `start` binds and serves on a background thread; the
/// destructor stops serving.
class api_server {
public:
  using handler = std::function<api_reply(const api_request&)>;

  explicit api_server(handler h);
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
