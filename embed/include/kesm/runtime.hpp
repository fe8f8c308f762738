#pragma once

// kesm's embedding API: run Lambda-compatible Kafka event source mappings
// inside your own C++ program, with your handlers called in-process.
// The only kesm header a program needs; see docs/embedding.md.

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#define KESM_API __attribute__((visibility("default")))

namespace kesm {

/// What went wrong, in one line (the same words `kesm serve` and the
/// control-plane API use).
class KESM_API error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A function compiled into your program. It receives the event JSON
/// Lambda would send (`{"eventSource":"SelfManagedKafka", ..., "records":
/// {...}}`) and returns what a Lambda handler would: "" or "{}" for
/// success, or a partial-batch response (`{"batchItemFailures": [...]}`)
/// when the mapping reports item failures. Throwing fails the whole batch
/// (a function error: retried, split, dead-lettered as configured). Called
/// on a small pool of kesm's threads, never two calls on one partition at
/// once.
using handler = std::function<std::string(const std::string& event)>;

struct runtime_options {
  /// Serve the control-plane API (and /metrics, the dashboard at /) on
  /// this 127.0.0.1 port; 0: any free port; -1 (default): no API.
  int api_port = -1;
  std::string api_host = "127.0.0.1";
  /// Region and account used in ARNs.
  std::string region = "us-east-1";
  std::string account = "000000000000";
  /// Seconds `stop` waits for running calls before abandoning them.
  int shutdown_grace_seconds = 10;
  /// librdkafka properties for every consumer (security settings, say).
  std::map<std::string, std::string> kafka;
  /// `debug`, `info`, `warning` (default) or `error`: what kesm logs to
  /// stderr.
  std::string log_level = "warning";
};

/// A running set of mappings.
///
///     kesm::runtime rt;
///     rt.add_handler("orders", [](const std::string& event) { ...; return ""; });
///     rt.start();
///     auto uuid = rt.add_mapping(R"({"FunctionName": "orders", ...})");
///     ...
///     rt.stop();   // or let the destructor do it
///
/// Handlers are added before `start`; mappings after it. Thread-safe
/// after `start`.
class KESM_API runtime {
public:
  explicit runtime(runtime_options opts = {});
  /// Stops (as `stop`) when still running.
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Registers `fn` under `name`, the FunctionName mappings use;
  /// `threads` calls may run at once. Throws `kesm::error` after `start`
  /// or for a name given twice.
  void add_handler(const std::string& name, handler fn, size_t threads = 2);

  /// Starts the runtime (and the API when asked for). Throws
  /// `kesm::error` when the API port cannot be bound.
  void start();

  /// Adds a mapping from Lambda's CreateEventSourceMapping request JSON
  /// (`FunctionName`, `Topics`, `SelfManagedEventSource` or
  /// `EventSourceArn`, `StartingPosition`, `BatchSize`, `FilterCriteria`,
  /// `DestinationConfig`, ...); returns its UUID. Throws `kesm::error`
  /// with Lambda's message when the request is refused.
  std::string add_mapping(const std::string& create_request_json);

  /// Lambda's GetEventSourceMapping answer (JSON) for `uuid`.
  std::string describe(const std::string& uuid) const;

  /// Removes a mapping: its in-flight batches finish and offsets are
  /// committed first.
  void remove_mapping(const std::string& uuid);

  /// The dashboard's status of every mapping (JSON, as GET /kesm/status:
  /// state, totals, rates, lag per partition; without history).
  std::string status_json() const;

  /// Records invoked and completed (offsets stored for commit) so far by
  /// the mapping `uuid`; 0 before its first status.
  struct progress {
    std::string state;
    std::string last_processing_result;
    unsigned long long invoked = 0;
    unsigned long long completed = 0;
    unsigned long long offset_lag = 0;
  };
  progress progress_of(const std::string& uuid) const;

  /// The API port (after `start` with `api_port >= 0`), else -1.
  int api_port() const;

  /// Stops every mapping: no new batches, in-flight ones get
  /// `shutdown_grace_seconds`, offsets are committed, consumers leave
  /// their groups. Idempotent.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// kesm's version, e.g. "0.1.0".
KESM_API const char* version();

} // namespace kesm
