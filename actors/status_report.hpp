#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "actors/supervisor.hpp"
#include "codecs/mapping_config.hpp"
#include "codecs/mapping_json.hpp"

namespace kesm::actors {

/// One second of a mapping's life: its running totals and lag then.
struct status_sample {
  int64_t time_ms = 0;
  uint64_t polled = 0;
  uint64_t invoked = 0;
  uint64_t failed = 0; // records given up: dead-lettered or dropped
  uint64_t dead_lettered = 0;
  uint64_t function_errors = 0;
  uint64_t invocations = 0;
  uint64_t invoke_micros = 0;
  uint64_t lag = 0;
  uint32_t pollers = 0;
};

/// The last minutes of a mapping as samples about a second apart, for the
/// dashboard's charts and `kesm status`'s rates. Bounded: the oldest
/// sample goes when `capacity` are held.
class status_history {
public:
  explicit status_history(size_t capacity = 300) : capacity_(capacity) {}

  /// Records `s` at `now_ms` when at least `every_ms` passed since the
  /// previous sample; true when it did.
  bool sample(const mapping_status& s, int64_t now_ms, int64_t every_ms = 1000);

  const std::deque<status_sample>& samples() const {
    return samples_;
  }

private:
  size_t capacity_;
  std::deque<status_sample> samples_;
};

/// What the status page knows of one mapping.
struct status_view {
  const codecs::mapping_config* cfg = nullptr;
  const codecs::mapping_runtime* rt = nullptr;
  const std::string* source = nullptr;
  /// The supervisor's last answer; null when none runs.
  const mapping_status* last = nullptr;
  const status_history* history = nullptr;
};

/// Appends one mapping's JSON object of `GET /kesm/status` to `out`:
/// definition, state, totals, per-second rates over the newest sample
/// interval, lag per partition and, when `with_history`, the samples as
/// column arrays (`t` in epoch ms, `lag`, `polled`, `invoked`, `failed`,
/// `deadLettered` per second, `latencyMs` mean of the interval).
void append_status_json(std::string& out, const status_view& v,
                        bool with_history);

} // namespace kesm::actors
