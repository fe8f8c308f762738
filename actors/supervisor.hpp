#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/backoff.hpp"
#include "actors/partition_reader.hpp"
#include "codecs/event_writer.hpp"
#include "codecs/mapping_config.hpp"
#include "codecs/scaling_policy.hpp"
#include "transport/function_target.hpp"
#include "transport/kafka.hpp"
#include "transport/metrics.hpp"
#include "transport/schema_decode.hpp"

namespace kesm::actors {

class capacity_pool;

/// The consumer's `fetch.wait.max.ms` (milliseconds, as librdkafka reads
/// it). librdkafka leaves out of a fetch the partitions whose queue is
/// above its pre-fetch thresholds and sends the next fetch only when this
/// one is answered: a fetch of caught-up partitions alone holds every
/// other partition for the whole wait (docs/architecture.md, "Fetch
/// waits"). 10 ms: 8 busy partitions of 64 went from 0.88 to 2.5 M
/// records/s; an idle 64-partition mapping costs about 100 empty fetches
/// a second. The bench's raw consumer uses the same.
inline constexpr const char* fetch_wait_ms = "10";

/// Everything one running mapping needs.
struct mapping_options {
  codecs::mapping_config config;
  transport::function_target_ptr target;
  /// Batcher + invoker pairs (actors); partitions are spread over them.
  /// The mapping's pollers (units of 5 concurrent invocations) are shared
  /// out among the pairs and scaled at run time (see `scaling`).
  size_t pollers = 1;
  /// Concurrent invocations per poller (Lambda: 5).
  size_t max_concurrency = 5;
  /// How often the poller count is evaluated (esm-spec.md section 7).
  std::chrono::milliseconds scaling_interval{5000};
  codecs::scaling_knobs scaling;
  /// Most pollers this mapping may run in this process (`--max-pollers`;
  /// 0: no cap beyond the partitions it owns).
  uint32_t max_pollers = 0;
  /// Capacity shared with the other mappings of the process and of the
  /// mapping's poller group; null: not shared.
  std::shared_ptr<capacity_pool> capacity;
  /// How often stored offsets are committed in the background.
  std::chrono::milliseconds commit_interval{1000};
  /// Delay between retries of a failed or throttled batch.
  backoff retry_backoff;
  size_t max_payload = codecs::max_payload_bytes;
  reader_limits reader;
  /// Bytes all readers of this mapping may hand to batchers and not have
  /// finished, beyond their floors: shared by the readers, a busy one
  /// taking up to 12 MB (room for one full 6 MB batch with per-record
  /// overhead) in 256 KB steps (`reader_budget`). So readers hold at most
  /// `reader_budget + partitions * reader_floor` (plus one record each)
  /// whatever the backlog and the partition count. Overrides
  /// `reader.max_bytes`. 0: each reader holds `reader.max_bytes`.
  size_t reader_budget = 64 * 1024 * 1024;
  /// What each reader may hold whatever the budget's state: one batch's
  /// progress when busier readers hold the whole budget.
  size_t reader_floor = 64 * 1024;
  /// librdkafka's pre-fetch limits per partition: KB of payload, and
  /// messages (which bounds the per-message overhead the KB do not count).
  /// 0: from the budgets below, split over the topic's partitions.
  int prefetch_kbytes = 0;
  int prefetch_messages = 0;
  /// Pre-fetch budgets of a mapping, split over its topic's partitions:
  /// each partition gets 1,024..8,192 KB and 2,000..20,000 messages (the
  /// floors are what a 64-partition topic gets; fewer partitions pre-fetch
  /// deeper, which small records need to keep librdkafka's fetches ahead).
  int prefetch_budget_kbytes = 64 * 1024;
  int prefetch_budget_messages = 128000;
  /// How long a stop waits for in-flight batches before giving up on them
  /// (they are delivered again later: at-least-once).
  std::chrono::milliseconds shutdown_grace{10000};
  /// Extra librdkafka consumer properties (tests, tuning).
  transport::kafka_props kafka;
  /// Extra librdkafka properties of the on-failure destination's producer
  /// (tests, tuning; security properties are copied from `kafka`).
  transport::kafka_props dead_letter_kafka;
  /// The function's ARN as dead-letter envelopes name it; empty: formed
  /// from the function name with the default region and account.
  std::string function_arn;
  /// Where the mapping's counters live; null: not counted.
  std::shared_ptr<transport::metrics> metrics;
  /// The mapping's schema registry (SchemaRegistryConfig); null: none.
  transport::schema_decoding_ptr schemas;
};

/// A snapshot of a running mapping, for logs, the CLI and tests.
struct mapping_status {
  std::string uuid;
  /// Lambda's State: Creating, Enabled, Disabling, Disabled.
  std::string state;
  /// `OK` or `PROBLEM: <cause>`.
  std::string last_processing_result;
  std::vector<int32_t> assigned;
  uint64_t invocations = 0;
  uint64_t invoked_records = 0;
  /// Records whose offsets were stored for commit after success.
  uint64_t completed_records = 0;
  uint64_t function_errors = 0;
  uint64_t throttles = 0;
  uint64_t batches_in_retry = 0;
  /// Failed records given up without a destination.
  uint64_t dropped = 0;
  /// Failed records acknowledged by the on-failure destination.
  uint64_t dead_lettered = 0;
  /// Failed writes to the on-failure destination (each written again).
  uint64_t dead_letter_errors = 0;
  /// Partition revocations seen (rebalances, evictions).
  uint64_t revocations = 0;
  /// Partition fetches restarted because a reader's queue stayed empty
  /// while the log had more (`reader_limits::kick_after`).
  uint64_t fetch_kicks = 0;
  /// Pollers now (5 concurrent invocations each), and the offset lag of
  /// the owned partitions at the last evaluation.
  uint32_t pollers = 1;
  uint64_t offset_lag = 0;
  /// Filled in by `status_atom` (not kept between asks): records polled
  /// so far, the summed duration of every invocation, and the offset lag
  /// of each owned partition from librdkafka's cached high watermarks.
  uint64_t polled_records = 0;
  uint64_t invoke_micros = 0;
  std::vector<std::pair<int32_t, uint64_t>> partition_lag;
};

/// Spawns the supervisor of one mapping on its own thread (it owns the
/// librdkafka consumer and makes the few short blocking calls librdkafka
/// needs during a rebalance: committed-offset lookup, synchronous commit
/// on revoke and close). It spawns the pollers and one partition reader
/// per assigned partition and stores a partition's offset only past
/// records that are finished: delivered, written to the on-failure
/// destination (acknowledged), or dropped. Failed batches are retried with
/// exponential backoff and jitter (throttles are not attempts), bisected,
/// restarted from partial-batch answers, and given up by the mapping's
/// retry and record-age limits (esm-spec.md section 4; see
/// failure_handler.cpp). Commits every `commit_interval`, synchronously on
/// revoke, and on stop.
///
/// Messages:
/// - `status_atom` -> `mapping_status`
/// - `(config_atom, mapping_config, function_target_ptr)` -> `bool`: a live
///   update (BatchSize, window, function, failure handling, filters take
///   effect for batches cut from now on; nothing is re-read or
///   re-committed). The create-only fields must be unchanged.
/// - an exit message (e.g. `anon_send_exit(h, exit_reason::user_shutdown)`)
///   starts a clean stop: no new batches, in-flight ones get up to
///   `shutdown_grace`, offsets are committed, the consumer leaves its group,
///   then the actor quits.
caf::actor spawn_mapping(caf::actor_system& sys, mapping_options opts);

} // namespace kesm::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kesm::actors::mapping_status)

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kesm::codecs::mapping_config)
