#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "transport/function_target.hpp"

namespace kesm::transport {

/// Outbound HTTP(S) through libcurl's multi interface on one I/O thread.
/// Connections are kept alive and reused across calls to the same host.
///
/// Lifecycle: the constructor starts the I/O thread, the destructor stops
/// it and completes every unfinished call with an error. `post` may be
/// called from any thread; callbacks run on the I/O thread.
class http_client {
public:
  http_client();
  ~http_client();

  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// POSTs `body` as `application/json` to `url`; `timeout_ms` bounds the
  /// whole call.
  void post(std::string url, std::shared_ptr<const std::string> body,
            long timeout_ms, invocation_callback done);

private:
  struct request;

  void run();

  std::mutex mtx_;
  std::deque<std::unique_ptr<request>> pending_;
  bool stopping_ = false;
  void* multi_ = nullptr; // CURLM*
  std::thread thread_;
};

/// A function behind an HTTP(S) endpoint (esm-spec.md section 10).
class http_target : public function_target {
public:
  http_target(std::shared_ptr<http_client> client, std::string url,
              int timeout_seconds);

  void invoke(std::shared_ptr<const std::string> payload,
              invocation_callback done) override;

  std::string describe() const override {
    return url_;
  }

private:
  std::shared_ptr<http_client> client_;
  std::string url_;
  long timeout_ms_;
};

} // namespace kesm::transport
