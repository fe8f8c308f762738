#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace kesm::transport {

/// What a function server answers to one event.
struct function_reply {
  int status = 200;
  std::string body = "{}";
  /// Sets Lambda's `X-Amz-Function-Error: Unhandled` header.
  bool function_error = false;
};

/// A small HTTP function endpoint (cpp-httplib) on 127.0.0.1 with a port
/// the OS picks: the demo function of `kesm demo`, and the scripted
/// function of the integration tests. Connections are kept alive. The
/// handler runs on the server's pool threads and must be thread-safe.
///
/// Lifecycle: `start` binds and serves on a background thread; the
/// destructor stops it.
class function_server {
public:
  /// The body a handler gets has at least 64 bytes of capacity past its
  /// end (`body.capacity() >= body.size() + 64`), simdjson's padding: its
  /// parser reads the body in place rather than copying it first.
  using handler = std::function<function_reply(const std::string& body)>;

  explicit function_server(handler h);
  ~function_server();

  function_server(const function_server&) = delete;
  function_server& operator=(const function_server&) = delete;

  /// Binds to 127.0.0.1:0 and starts serving; returns false on failure.
  bool start();

  int port() const noexcept {
    return port_;
  }

  /// `http://127.0.0.1:<port>/`
  std::string url() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  int port_ = 0;
  std::thread thread_;
};

} // namespace kesm::transport
