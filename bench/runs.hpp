#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "bench/measure.hpp"
#include "transport/function_target.hpp"

namespace kesm::bench {

/// Where the data of one value size lives.
struct dataset {
  std::string bootstrap;
  std::string topic;
  int partitions = 16;
  /// Partitions that get records (the first ones; 0: all). The others
  /// stay empty, as with skewed keys.
  int busy_partitions = 0;
  uint64_t records = 0;
  size_t value_bytes = 100;
  uint64_t bytes = 0; // key + value + header bytes loaded
  /// The embedded broker's process (its CPU is reported beside each run's).
  pid_t broker_pid = -1;

  /// How many partitions get records (`busy_partitions`, else all).
  int loaded_partitions() const {
    return busy_partitions > 0 ? std::min(busy_partitions, partitions)
                               : partitions;
  }
};

/// Produces `ds.records` records (keys, two headers) round-robin over the
/// busy partitions, with a progress line on stderr.
bool load(dataset& ds);

/// Key + value + header bytes that `load` writes for `ds`.
uint64_t loaded_bytes(const dataset& ds);

/// A plain librdkafka consumer: its own group, every partition assigned
/// from the beginning, consumed to the end, touching each payload.
run_result run_raw(const dataset& ds);

/// One kesm mapping (BatchSize 1000, window 0, TRIM_HORIZON, fresh group)
/// to `target`, timed from the assignment until every record is committed
/// and the mapping has stopped. `function_pid`: the HTTP function's
/// process, whose CPU over the same window is reported beside kesm's.
run_result run_kesm(caf::actor_system& sys, const dataset& ds,
                    const std::string& name,
                    transport::function_target_ptr target, size_t pollers,
                    pid_t function_pid = -1);

/// One scaling run (`kesm-bench --scaling`).
struct scaling_result {
  std::string name;
  uint64_t records = 0;
  /// From the first record done to the last.
  double drain_seconds = 0;
  /// From the first record done until the poller count last rose.
  double steady_seconds = 0;
  uint32_t peak_pollers = 0;
  double records_per_s() const {
    return drain_seconds > 0 ? static_cast<double>(records) / drain_seconds
                             : 0;
  }
};

/// A backlog drained through a slow in-process function (`delay_ms` a
/// call, BatchSize 20, window 0), on demand or, with `one_poller`, held
/// at one poller (provisioned Min = Max = 1); the poller count is sampled
/// every 50 ms.
scaling_result run_scaling(caf::actor_system& sys, const dataset& ds,
                           int delay_ms, bool one_poller,
                           std::chrono::milliseconds interval);

/// Latency percentiles of one latency run, in milliseconds.
struct latency_result {
  std::string name;
  uint64_t samples = 0;
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
  double rate = 0;
};

/// The same load consumed by a plain librdkafka consumer (assigned at the
/// end of every partition): the floor for any consumer here.
latency_result run_raw_latency(const std::string& bootstrap,
                               const std::string& topic, int partitions,
                               int rate, int seconds);

/// Produces `rate` records/s for `seconds` into `topic` (window 0 mapping,
/// in-process handler) and measures produce-to-handler latency.
latency_result run_latency(caf::actor_system& sys, const std::string& bootstrap,
                           const std::string& topic, int partitions, int rate,
                           int seconds);

} // namespace kesm::bench
