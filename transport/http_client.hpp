#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "transport/aws/credentials.hpp"
#include "transport/function_target.hpp"

namespace kesm::transport {

class plain_http;

/// Outbound HTTP(S) on one I/O thread: plain `http://` calls through
/// kesm's own client (`plain_http`: the head and the event in one write,
/// no copy), everything else, and plain calls it does not take (a host
/// name curl has not resolved yet, a proxy configured), through libcurl's
/// multi interface. Connections are kept alive and reused across calls to
/// the same host.
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
  /// whole call. `headers` (`Name: value` lines) are added; a non-empty
  /// `ca_file` replaces the system CA store for this call.
  void post(std::string url, std::shared_ptr<const std::string> body,
            long timeout_ms, invocation_callback done,
            std::vector<std::string> headers = {}, std::string ca_file = {});

  /// Calls kesm's own client has taken so far (the rest went to curl).
  uint64_t plain_calls() const noexcept {
    return plain_calls_.load(std::memory_order_relaxed);
  }

private:
  struct request;

  void run();

  std::atomic<uint64_t> plain_calls_{0};

  std::mutex mtx_;
  std::deque<std::unique_ptr<request>> pending_;
  bool stopping_ = false;
  void* multi_ = nullptr; // CURLM*
  std::unique_ptr<plain_http> plain_; // used by the I/O thread only
  std::thread thread_;
};

/// How an HTTP target calls its endpoint beyond a plain POST.
struct http_target_options {
  /// Extra request headers.
  std::vector<std::pair<std::string, std::string>> headers;
  /// PEM file of the CAs to trust instead of the system store.
  std::string ca_file;
  /// Set: every call is SigV4-signed for `service` in `region` with these
  /// (cached, refreshed elsewhere) credentials.
  std::shared_ptr<aws::credential_provider> credentials;
  std::string region;
  std::string service;
  /// The Lambda Invoke API: `X-Amz-Invocation-Type: RequestResponse`, and
  /// 401/403/404 mean kesm's access, not the records (access_denied).
  bool lambda_api = false;
};

/// A function behind an HTTP(S) endpoint (esm-spec.md section 10): a
/// plain URL, a Lambda function URL (optionally IAM-signed), or the Lambda
/// Invoke API.
class http_target : public function_target {
public:
  http_target(std::shared_ptr<http_client> client, std::string url,
              int timeout_seconds, http_target_options opts = {});

  void invoke(std::shared_ptr<const std::string> payload,
              invocation_callback done) override;

  std::string describe() const override {
    return url_;
  }

private:
  std::shared_ptr<http_client> client_;
  std::string url_;
  long timeout_ms_;
  http_target_options opts_;
  std::vector<std::string> lines_; // unsigned calls' extra header lines
};

} // namespace kesm::transport
