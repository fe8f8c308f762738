#pragma once

#include <cstdint>
#include <string>

namespace kesm::bench {

/// Process CPU time (user + system) in seconds, from getrusage.
double cpu_seconds();

/// Resets the process's peak RSS (Linux `clear_refs` 5); false if refused.
bool reset_peak_rss();

/// Peak RSS since the last reset, in MB (VmHWM).
double peak_rss_mb();

/// Monotonic seconds.
double now_seconds();

/// What one measured run produced.
struct run_result {
  std::string name; // raw, kesm/in-process, kesm/http
  size_t value_bytes = 0;
  int round = 0;
  uint64_t records = 0;
  uint64_t bytes = 0; // key + value + header bytes consumed
  /// From the first record received to the last one done (committed, for
  /// kesm): the steady-state window that records/s is computed over.
  double seconds = 0;
  /// From the start (assign, or the group's assignment) to the first record.
  double startup = 0;
  double cpu = 0;
  double rss_mb = 0;
  uint64_t invocations = 0;
  /// Loaded copies of the data consumed back to back to reach the minimum
  /// steady-state time (`--min-seconds`); `seconds` sums their windows.
  int cycles = 1;

  /// Adds one more cycle's figures.
  void add(const run_result& r) {
    records += r.records;
    bytes += r.bytes;
    seconds += r.seconds;
    cpu += r.cpu;
    rss_mb = rss_mb > r.rss_mb ? rss_mb : r.rss_mb;
    invocations += r.invocations;
  }

  double records_per_s() const {
    return seconds > 0 ? static_cast<double>(records) / seconds : 0;
  }
  double mb_per_s() const {
    return seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0;
  }
  double cpu_per_million() const {
    return records > 0 ? cpu * 1e6 / static_cast<double>(records) : 0;
  }
};

} // namespace kesm::bench
