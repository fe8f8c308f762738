#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/supervisor.hpp"
#include "codecs/mapping_config.hpp"
#include "transport/embedded_broker.hpp"
#include "transport/function_server.hpp"
#include "transport/http_client.hpp"
#include "transport/offset_inspector.hpp"
#include "transport/producer.hpp"

namespace kesm::test {

/// One record as the function saw it, decoded from the event.
struct seen_record {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp = 0;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// One invocation as the function saw it.
struct invocation {
  std::string event_source;
  std::vector<seen_record> records;
  std::chrono::steady_clock::time_point at;
};

/// Decodes an event body (esm-spec.md section 1) into records; fails the
/// running test on a malformed event.
invocation decode_event(const std::string& body);

/// A real HTTP function on 127.0.0.1 whose answers a test scripts: `script`
/// gets the call number (from 0) and the decoded event. Records every call.
class scripted_function {
public:
  using script_fn
    = std::function<transport::function_reply(size_t, const invocation&)>;

  explicit scripted_function(script_fn script = nullptr);

  std::string url() const {
    return server_.url();
  }
  std::vector<invocation> calls() const;
  size_t call_count() const;
  /// Records delivered in calls that answered 2xx.
  size_t delivered() const {
    return delivered_.load();
  }

private:
  transport::function_reply handle(const std::string& body);

  script_fn script_;
  mutable std::mutex mtx_;
  std::vector<invocation> calls_;
  std::atomic<size_t> delivered_{0};
  transport::function_server server_;
};

/// The embedded broker plus a producer and an offset reader.
class test_cluster {
public:
  test_cluster();

  std::string bootstrap() const {
    return broker_->bootstrap();
  }
  transport::embedded_broker& broker() {
    return *broker_;
  }
  void create_topic(const std::string& topic, int partitions);
  /// Produces `n` records to `partition` with key `k<i>`, value
  /// `<tag>-<partition>-<i>` and one header; waits for acknowledgement.
  void produce(const std::string& topic, int32_t partition, int n,
               const std::string& tag = "v", int64_t timestamp_ms = 0);
  std::vector<transport::partition_offsets>
  offsets(const std::string& group, const std::string& topic);
  /// Reads `topic` (every partition, from the start, no group) until `n`
  /// records arrived or `timeout` passed; then reads 300 ms more to catch
  /// extras.
  std::vector<transport::outgoing_record>
  read(const std::string& topic, size_t n,
       std::chrono::milliseconds timeout = std::chrono::milliseconds(20000));

private:
  std::optional<transport::embedded_broker> broker_;
  std::optional<transport::producer> producer_;
};

/// A validated self-managed mapping document for `topic` on `bootstrap`.
codecs::mapping_config make_mapping(const std::string& bootstrap,
                                    const std::string& topic,
                                    const std::string& extra_json
                                    = "\"StartingPosition\":\"TRIM_HORIZON\"");

/// Runs mappings in an actor system; stops them cleanly on destruction.
class runner {
public:
  runner();
  ~runner();

  caf::actor start(const codecs::mapping_config& cfg, const std::string& url,
                   std::function<void(actors::mapping_options&)> tweak
                   = nullptr);
  void stop(caf::actor mapping);
  /// A live update of a running mapping (as the registry sends it).
  bool reconfigure(caf::actor mapping, const codecs::mapping_config& cfg,
                   const std::string& url);
  actors::mapping_status status(caf::actor mapping);

private:
  std::unique_ptr<caf::actor_system_config> cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  std::shared_ptr<transport::http_client> http_;
  std::vector<caf::actor> running_;
};

/// Polls `pred` every 10 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout
                = std::chrono::milliseconds(30000));

/// (partition, offset) of every record of `calls`, in call order.
std::vector<std::pair<int32_t, int64_t>>
positions(const std::vector<invocation>& calls);

/// True when, per partition, offsets rise strictly from call to call and
/// within each call (no reordering, no duplicate without a retry).
bool strictly_increasing(const std::vector<invocation>& calls);

/// Committed offset of every partition with records equals its end offset
/// (an empty partition has nothing to commit).
bool all_committed(test_cluster& c, const std::string& group,
                   const std::string& topic);

} // namespace kesm::test
