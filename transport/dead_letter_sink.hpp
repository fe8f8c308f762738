#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "codecs/expected.hpp"
#include "transport/kafka.hpp"

namespace kesm::transport {

/// A Kafka on-failure destination (esm-spec.md section 4): an idempotent
/// producer (acks=all) whose acknowledgements are collected, never waited
/// for. One owner thread calls everything (the mapping's supervisor):
/// `send` queues, `poll` serves delivery reports and returns them.
/// Rebuilds its producer after a fatal idempotence error, reporting what
/// was in flight as failed so the owner sends it again.
class dead_letter_sink {
public:
  struct report {
    uint64_t id = 0;
    /// Empty: acknowledged by the destination.
    std::string error;
  };

  static codecs::expected<std::unique_ptr<dead_letter_sink>>
  connect(const std::string& bootstrap, kafka_props extra = {});

  ~dead_letter_sink();

  /// Queues one message; `id` comes back in a report. Never blocks: a full
  /// local queue is an immediate failure report.
  void send(const std::string& topic, const void* key, size_t key_len,
            const std::string& value, uint64_t id);

  /// Delivery reports since the last call (non-blocking).
  std::vector<report> poll();

  size_t in_flight() const noexcept {
    return in_flight_.size();
  }

  /// Waits up to `timeout_ms` for what is in flight (at a stop).
  void flush(int timeout_ms);

private:
  dead_letter_sink(std::string bootstrap, kafka_props props);
  codecs::expected<bool> rebuild();

  std::string bootstrap_;
  kafka_props props_;
  kafka_ptr rk_;
  std::unordered_set<uint64_t> in_flight_;
  std::vector<report> reports_;

  friend void dead_letter_delivered(rd_kafka_t*, const rd_kafka_message_t*,
                                    void*);
};

} // namespace kesm::transport
