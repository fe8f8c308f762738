#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>

#include "actors/invoker.hpp"
#include "actors/partition_reader.hpp"
#include "actors/supervisor.hpp"
#include "actors/wake_signal.hpp"
#include "codecs/dead_letter.hpp"
#include "transport/dead_letter_sink.hpp"
#include "transport/kafka.hpp"
#include "transport/log.hpp"

namespace kesm::actors::detail {

using transport::log;
using transport::log_level;

/// State of a supervisor. Touched only by the supervisor's own thread
/// (librdkafka's rebalance callback runs inside `rd_kafka_consumer_poll`,
/// which only the supervisor calls).
struct supervisor_state {
  struct assigned {
    caf::actor reader;
    uint64_t generation = 0;
    size_t poller = 0;
    /// The reader's queue and what it publishes, for `watch_fetches`.
    std::shared_ptr<watched_queue> queue;
    std::shared_ptr<reader_probe> probe;
    /// The probe's `data_seq` when last seen, and when it last changed (or
    /// the last restart); the wait before the next restart, doubling up to
    /// 1 s; `idle`: that wait passed, no restarts until records arrive.
    uint64_t seen_seq = 0;
    std::chrono::steady_clock::time_point since;
    std::chrono::milliseconds wait{0};
    bool idle = false;
  };
  /// Some records of a failed batch, invoked together.
  struct piece {
    /// Indices into the origin batch's records, ascending.
    std::vector<uint32_t> idx;
    /// What is invoked for this piece; null until first needed.
    batch_ptr sent;
    /// Failed attempts (throttles excluded) and throttles of this piece.
    uint32_t attempts = 0;
    uint32_t throttles = 0;
    /// Invocations its records went through (approximateInvokeCount).
    uint32_t invokes = 0;
    /// Wait before the next invocation.
    std::chrono::milliseconds wait{0};
  };
  /// A batch that failed at least once, until each of its records is
  /// finished (delivered, dead-lettered and acknowledged, or dropped).
  /// Pieces are invoked one at a time, in order, so offsets only advance.
  struct tracked {
    batch_ptr origin;
    /// Per record of `origin`: open, finished, or dead letter in flight.
    enum : uint8_t { open, done, writing };
    std::vector<uint8_t> record_state;
    /// Per part of `origin`: index of its first record, and how many of
    /// its records form the finished prefix (stored for commit).
    std::vector<size_t> part_start;
    std::vector<size_t> finished_prefix;
    size_t finished_count = 0;
    std::deque<piece> pieces;
    /// A piece is in flight or scheduled: its outcome will come back.
    bool out = false;
    /// The last failed answer, for dead-letter envelopes.
    int last_status = 0;
  };
  /// A dead letter not yet acknowledged.
  struct dead_letter {
    tracked* owner = nullptr;
    uint32_t index = 0;
    std::string value;
    uint32_t attempts = 0;
  };

  caf::stateful_actor<supervisor_state>* self = nullptr;
  mapping_options opts;
  mapping_status status;
  transport::mapping_counters counters;
  // Declared before `rk`: librdkafka may call into a signal until the
  // client is gone, so signals are destroyed after it.
  std::vector<std::unique_ptr<wake_signal>> signals;
  transport::kafka_ptr rk;
  std::unique_ptr<watched_queue> consumer_queue;
  std::shared_ptr<const codecs::event_writer> writer;
  /// What the readers may hold beyond their floors, shared by them
  /// (`mapping_options::reader_budget`); null: each holds `reader.max_bytes`.
  reader_budget_ptr reader_bytes;
  /// The compiled FilterCriteria; each reader filters with its own clone.
  std::shared_ptr<const codecs::record_filter> filter;
  std::vector<caf::actor> batchers;
  std::vector<caf::actor> invokers;
  std::map<int32_t, assigned> partitions;
  uint64_t next_generation = 1;
  /// Failed batches by origin, and the owner of every batch out.
  std::unordered_map<const batch*, std::unique_ptr<tracked>> tracked_batches;
  std::unordered_map<const batch*, tracked*> piece_owner;
  std::unique_ptr<transport::dead_letter_sink> sink;
  std::unordered_map<uint64_t, dead_letter> dead_letters;
  uint64_t next_dead_letter = 1;
  bool sink_poll_armed = false;
  /// AT_TIMESTAMP partitions the broker could not resolve: the reader
  /// passes over older records itself. Filled by resolve, used by assign.
  std::map<int32_t, int64_t> skip_before;
  std::mt19937_64 rng{std::random_device{}()};
  bool stopping = false;
  /// fail_access has asked for a stop.
  bool access_failed = false;
  bool closed = false;
  size_t drains_pending = 0;
  /// Batchers and invokers killed at the end of the shutdown grace, not
  /// yet down (their state holds the abandoned batches).
  std::vector<caf::actor_addr> abandoned;
  bool pollers_abandoned = false;

  // Scaling (supervisor_scaling.cpp).
  codecs::scaling_memory scaling;
  /// Invocation slots of each batcher + invoker pair.
  std::vector<size_t> slots;
  /// Call time and throttles since the last evaluation.
  int64_t busy_us = 0;
  uint32_t period_throttles = 0;
  /// When the current observation period began, and when the policy runs
  /// next (one period later, sooner after new partitions or an update).
  std::chrono::steady_clock::time_point period_start;
  std::chrono::steady_clock::time_point next_evaluation;
  /// Per owned partition: the next offset to commit (stored, or where
  /// reading started; -1: the partition's low watermark).
  std::map<int32_t, int64_t> positions;
  /// The ceiling last reported as capped (logged once per change).
  uint32_t logged_cap = 0;
  /// Throughput counter value at the last evaluation, and the EPU series
  /// (its group label) now exported.
  double last_throughput = 0;
  std::string epu_group;
  prometheus::Gauge* epu = nullptr;
  size_t readers_alive = 0;
  caf::error exit_reason;
  std::string last_error;

  static inline const char* name = "kesm.supervisor";

  ~supervisor_state() {
    leave_capacity();
    // What holds librdkafka messages goes before the client; the client
    // is destroyed on a thread of its own (it waits for the broker), with
    // the signals its queues may still call.
    release_batches();
    consumer_queue.reset();
    auto keep = std::make_shared<std::vector<std::unique_ptr<wake_signal>>>(
      std::move(signals));
    transport::destroy_later(std::move(rk),
                             RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE,
                             std::move(keep));
  }

  void set_state(const char* next) {
    if (status.state == next)
      return;
    log(log_level::info, "mapping " + status.uuid,
        status.state.empty() ? "State " + std::string(next)
                             : "State " + status.state + " -> " + next);
    status.state = next;
  }

  /// The cluster refused this consumer (authentication, TLS trust or
  /// authorization): PROBLEM with the broker's `reason`, and a stop whose
  /// exit error carries the result and Lambda's StateTransitionReason
  /// (`transition`) for the registry, which starts the mapping again.
  void fail_access(std::string reason, const char* transition);

  /// Duration, batch size and record age of one invocation, for /metrics.
  void observe_invocation(const batch& b, const outcome& out);

  void set_result(std::string result) {
    if (status.last_processing_result == result)
      return;
    log(result == "OK" ? log_level::info : log_level::warning,
        "mapping " + status.uuid, "LastProcessingResult: " + result);
    status.last_processing_result = std::move(result);
  }

  const std::string& topic() const {
    return opts.config.topic;
  }

  void assign(rd_kafka_topic_partition_list_t* parts);
  void revoke(rd_kafka_topic_partition_list_t* parts);
  void resolve_start_offsets(rd_kafka_topic_partition_list_t* parts);
  void poll_consumer();
  void store(const batch& b);
  /// Whether `partition` is still assigned with `generation` (a result of
  /// an older generation belongs to a revoked assignment).
  bool owns(int32_t partition, uint64_t generation) const {
    auto it = partitions.find(partition);
    return it != partitions.end() && it->second.generation == generation;
  }
  /// Adds `partition`'s commit point to `list` (created on first use) and
  /// counts `records` as committed.
  void stage_commit(transport::tpl_ptr& list, int32_t partition, int64_t next,
                    size_t records);
  /// Stores the offsets of `list` (if any) for the next commit.
  void store_offsets(const transport::tpl_ptr& list);
  /// Restarts the fetch of `partition` at exactly `next` (the reader's next
  /// offset) when its log has records from there:
  /// librdkafka then fetches it at once instead of up to a second later.
  void kick_fetch(int32_t partition, int64_t next);
  /// The fetch-stall check over all readers (`reader_limits::kick_after`):
  /// restarts the fetch of each partition whose queue stayed empty for its
  /// wait while the log has more. Keeps its own timer running while some
  /// partition is not idle; the 250 ms tick starts it again.
  void watch_fetches();
  void arm_watch();
  bool watch_armed = false;

  // Failure handling (failure_handler.cpp).
  void on_outcome(const batch_ptr& b, outcome out);
  void on_failed_piece(tracked& t, const outcome& out);
  void give_up(tracked& t, const std::vector<uint32_t>& idx,
               codecs::failure_condition cond, const outcome* last,
               uint32_t invokes);
  void write_dead_letter(uint64_t id);
  void poll_sink();
  void advance(tracked& t);
  void abandon(tracked& t);
  batch_ptr make_piece_batch(const tracked& t,
                             const std::vector<uint32_t>& idx) const;
  bool current(const batch& b) const;
  void commit_sync(const char* why);
  /// The shutdown grace is over: kills the pollers with the calls still
  /// running (their records are not committed: delivered again later).
  void abandon_pollers();
  /// Leaves the group (committing stored offsets), waiting at most a few
  /// seconds for the broker.
  void close_consumer();
  void finish_stop();
  /// Drops the failed batches and dead letters (and so their librdkafka
  /// messages); their records stay uncommitted.
  void release_batches() {
    piece_owner.clear();
    dead_letters.clear();
    tracked_batches.clear();
  }

  codecs::scaling_bounds scaling_bounds() const;
  /// Shares `pollers x max_concurrency` slots out among the pairs and
  /// tells each batcher and invoker.
  void apply_pollers(uint32_t pollers);
  /// Offset lag of the owned partitions from librdkafka's cached
  /// watermarks (non-blocking); `max` gets the largest.
  uint64_t offset_lag(uint64_t& max) const;
  /// `status` with the fields computed on demand (polled records, lag per
  /// partition): the answer to `status_atom`.
  mapping_status snapshot() const;
  /// Runs the scaling policy when an evaluation period has passed.
  void maybe_scale();
  /// Gives the mapping's share of capacity back and drops its EPU series.
  void leave_capacity();
  /// Updates the EPU gauge (and its group label) from `bytes_per_second`.
  void report_epu(double bytes_per_second);
};

/// The invoker settings of pair `i`.
invoker_config invoker_settings(const supervisor_state& st, size_t i);

/// librdkafka's error callback (served by the supervisor's polls): reports
/// an unreachable cluster in LastProcessingResult.
void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);

/// librdkafka's rebalance callback; `opaque` is the supervisor_state.
void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                  rd_kafka_topic_partition_list_t* parts, void* opaque);

} // namespace kesm::actors::detail
