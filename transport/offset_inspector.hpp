#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "codecs/expected.hpp"
#include "transport/kafka.hpp"

namespace kesm::transport {

/// Where one partition stands: its log bounds and a group's commit.
struct partition_offsets {
  int32_t partition = 0;
  int64_t low = 0;
  int64_t high = 0;
  /// -1 when the group has no committed offset for the partition.
  int64_t committed = -1;

  /// Records not yet committed by the group (high - committed, or the
  /// whole log when nothing is committed).
  int64_t lag() const noexcept {
    return high - (committed >= 0 ? committed : low);
  }
};

/// Reads a consumer group's committed offsets and a topic's watermarks
/// without joining the group (for `kesm demo`, the bench, the tests and
/// lag metrics). Blocking: call it from a thread that may block, never
/// from a CAF worker. One owner.
class offset_inspector {
public:
  static codecs::expected<offset_inspector> connect(const std::string& bootstrap,
                                                    const std::string& group);

  /// Offsets of every partition of `topic`.
  codecs::expected<std::vector<partition_offsets>>
  query(const std::string& topic, int timeout_ms = 5000);

private:
  explicit offset_inspector(kafka_ptr rk) : rk_(std::move(rk)) {
    // nop
  }

  kafka_ptr rk_;
};

} // namespace kesm::transport
