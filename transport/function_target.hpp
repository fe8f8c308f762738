#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace kesm::transport {

/// What came back from one invocation, before any interpretation.
struct invocation_result {
  /// HTTP status (200 for an in-process handler that returned); 0 when the
  /// call never got an answer (connection refused, reset, timeout).
  int status = 0;
  /// The call ran past the function's timeout.
  bool timed_out = false;
  /// The answer carried Lambda's `X-Amz-Function-Error` header, or an
  /// in-process handler reported an error.
  bool function_error = false;
  /// The answer body (a partial-batch response, or anything else).
  std::string body;
  /// Transport error text when `status` is 0.
  std::string error;
  /// The function cannot be called as configured (no AWS credentials, or
  /// the Lambda API refused kesm: 401/403/404): not the records' fault.
  /// `error` holds the AWS error code and message.
  bool access_denied = false;
  /// Lambda's `X-Amz-Function-Error` value (`Unhandled`, `Handled`) and
  /// `X-Amz-Executed-Version`, when the answer carried them.
  std::string function_error_type;
  std::string executed_version;
  /// The answer's `X-Amzn-ErrorType` (AWS APIs), if any.
  std::string error_type;
  /// A 429's `Retry-After`, in milliseconds (0: none).
  int64_t retry_after_ms = 0;
  /// Connections the call had to open (0 when a kept-alive one was reused).
  int new_connections = 0;
  /// The answer ran past `max_answer_bytes` and was cut off: a function
  /// error (Lambda refuses such answers too).
  bool answer_too_large = false;
};

/// The most of a function's answer kesm keeps: Lambda's 6 MB limit on a
/// synchronous response.
constexpr size_t max_answer_bytes = 6 * 1024 * 1024;

/// The error text of an answer cut off at `max_answer_bytes`, whichever
/// target read it.
inline std::string answer_too_large_error() {
  return "the function's answer exceeds the "
         + std::to_string(max_answer_bytes) + "-byte response limit";
}

/// Called exactly once per invocation, from a transport thread.
using invocation_callback = std::function<void(invocation_result)>;

/// Where a mapping's batches go: an HTTP endpoint or an in-process handler.
/// `invoke` never blocks the caller; `done` runs on a transport-owned
/// thread and must only hand the result on (e.g. `caf::anon_send`).
class function_target {
public:
  virtual ~function_target() = default;

  virtual void invoke(std::shared_ptr<const std::string> payload,
                      invocation_callback done)
    = 0;

  /// A short description for logs (`http://...`, `in-process:name`).
  virtual std::string describe() const = 0;
};

using function_target_ptr = std::shared_ptr<function_target>;

} // namespace kesm::transport
