#pragma once

#include <cstdint>
#include <sys/types.h>
#include <string>
#include <utility>
#include <vector>

namespace kesm::bench {

/// What the process has used so far (getrusage): CPU, context switches
/// (voluntary + involuntary: each is a thread going to sleep or being
/// preempted) and minor page faults (fresh or returned memory touched).
struct process_usage {
  double cpu = 0;
  uint64_t switches = 0;
  uint64_t faults = 0;
};
process_usage usage_now();

/// CPU seconds (user + system, every thread) another process has used so
/// far, from /proc/<pid>/stat; -1 if it cannot be read or `pid` <= 0. For the bench's
/// function server, whose CPU shares the machine with kesm's.
double process_cpu_seconds(pid_t pid);

/// "name=value<sep>name=value" (experiment settings from the environment)
/// as pairs; items without `=` are left out.
std::vector<std::pair<std::string, std::string>>
name_values(const std::string& text, char sep);

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
  /// kesm: stopping the mapping after its last record (a synchronous
  /// commit and the consumer's close); not in `seconds` or `cpu`.
  double stop_seconds = 0;
  double cpu = 0;
  /// CPU of the HTTP function's process over the same window (http runs;
  /// 0 otherwise).
  double function_cpu = 0;
  /// CPU of the embedded broker's process over the same window: what the
  /// consumer's fetching costs the broker (it shares the 2 cores).
  double broker_cpu = 0;
  /// Context switches and minor page faults of the process over the run.
  uint64_t switches = 0;
  uint64_t faults = 0;
  double rss_mb = 0;
  uint64_t invocations = 0;
  /// Partition fetches kesm restarted (`fetch_kicks` of the mapping).
  uint64_t kicks = 0;
  /// Loaded copies of the data consumed back to back to reach the minimum
  /// steady-state time (`--min-seconds`); `seconds` sums their windows.
  int cycles = 1;

  /// CPU, context switches and page faults between two `usage_now()`.
  void set_usage(const process_usage& from, const process_usage& to) {
    cpu = to.cpu - from.cpu;
    switches = to.switches - from.switches;
    faults = to.faults - from.faults;
  }

  /// Adds one more cycle's figures.
  void add(const run_result& r) {
    records += r.records;
    bytes += r.bytes;
    seconds += r.seconds;
    stop_seconds += r.stop_seconds;
    cpu += r.cpu;
    function_cpu += r.function_cpu;
    broker_cpu += r.broker_cpu;
    switches += r.switches;
    faults += r.faults;
    rss_mb = rss_mb > r.rss_mb ? rss_mb : r.rss_mb;
    invocations += r.invocations;
    kicks += r.kicks;
  }

  double records_per_s() const {
    return seconds > 0 ? static_cast<double>(records) / seconds : 0;
  }
  double mb_per_s() const {
    return seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0;
  }
  /// Context switches per 1,000 records.
  double switches_per_k() const {
    return records > 0 ? static_cast<double>(switches) * 1e3
                           / static_cast<double>(records)
                       : 0;
  }
  /// Minor page faults per 1,000 records.
  double faults_per_k() const {
    return records > 0 ? static_cast<double>(faults) * 1e3
                           / static_cast<double>(records)
                       : 0;
  }
  double cpu_per_million() const {
    return records > 0 ? cpu * 1e6 / static_cast<double>(records) : 0;
  }
  double function_cpu_per_million() const {
    return records > 0 ? function_cpu * 1e6 / static_cast<double>(records)
                       : 0;
  }
  double broker_cpu_per_million() const {
    return records > 0 ? broker_cpu * 1e6 / static_cast<double>(records) : 0;
  }
};

} // namespace kesm::bench
