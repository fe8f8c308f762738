#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "codecs/expected.hpp"
#include "transport/kafka.hpp"

namespace kesm::transport {

/// A record to produce. `partition` -1 lets librdkafka pick by key.
struct outgoing_record {
  std::string topic;
  int32_t partition = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::string>> headers;
  /// Epoch ms; 0 = now.
  int64_t timestamp_ms = 0;
};

/// A plain librdkafka producer (idempotent, acks=all) for the demo, the
/// bench and the tests. `produce` queues; `flush` waits for every
/// acknowledgement and reports the first delivery error. Not thread-safe:
/// one owner.
class producer {
public:
  static codecs::expected<producer> connect(const std::string& bootstrap,
                                            kafka_props extra = {});

  /// Queues one record; retries while librdkafka's queue is full.
  codecs::expected<bool> produce(const outgoing_record& rec);

  /// Waits up to `timeout_ms` for every queued record to be acknowledged.
  codecs::expected<bool> flush(int timeout_ms = 30000);

  /// Serves delivery reports without waiting.
  void poll() {
    rd_kafka_poll(rk_.get(), 0);
  }

  rd_kafka_t* handle() const noexcept {
    return rk_.get();
  }

private:
  explicit producer(kafka_ptr rk, std::unique_ptr<int> failures);

  kafka_ptr rk_;
  std::unique_ptr<int> failures_; // delivery failures seen by the dr_msg_cb
};

} // namespace kesm::transport
