#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/reader_budget.hpp"
#include "actors/wake_signal.hpp"
#include <prometheus/counter.h>

#include "codecs/filter.hpp"
#include "transport/metrics.hpp"
#include "transport/schema_decode.hpp"

namespace kesm::actors {

/// Limits of one reader: records and bytes handed to its batcher and not
/// yet finished. Together with librdkafka's per-partition pre-fetch limit
/// (`queued.max.messages.kbytes`) they bound memory whatever the backlog.
struct reader_limits {
  size_t max_records = 20000;
  /// With a mapping budget (`reader_budget`), the reader's floor: what it
  /// may always hold; it holds more by the budget's steps.
  size_t max_bytes = 8 * 1024 * 1024;
  /// Records taken from the queue per wake-up before yielding.
  size_t drain_step = 1000;
  /// How long the queue may stay empty before the supervisor restarts the
  /// partition's fetch (0: never; `supervisor_state::watch_fetches`, from
  /// the reader's `reader_probe`). librdkafka
  /// 2.0 stops fetching a partition whose queue is above its pre-fetch
  /// thresholds and looks again only when its broker thread wakes for
  /// something else, up to a second later; with every partition full
  /// nothing wakes it, and kesm idles (docs/benchmarks.md). Doubles while
  /// no record arrives; after the 1 s wait no more restarts until records
  /// arrive again. Five times longer while other partitions get records.
  std::chrono::milliseconds kick_after{20};
};

/// What a reader publishes for its supervisor's fetch-stall check (the
/// supervisor reads it on its own thread; see `reader_limits::kick_after`).
/// One mapping-wide check replaces a timer per reader: at 64 partitions
/// those made about 3,200 timer events a second.
struct reader_probe {
  /// Counts drains that found records: a change means records arrived.
  std::atomic<uint64_t> data_seq{0};
  /// The offset after the last record taken from the queue (-1: none yet).
  std::atomic<int64_t> next_offset{-1};
  /// A chunk waits for its schema: the queue is not drained meanwhile.
  std::atomic<bool> parked{false};
};

/// State of one partition reader. Touched only by that actor.
struct reader_state {
  std::string topic;
  int32_t partition = 0;
  uint64_t generation = 0;
  /// Epoch ms; records older than this are passed over until the first
  /// record at or after it (AT_TIMESTAMP where the broker could not look
  /// the offset up). -1: off.
  int64_t skip_before_ts = -1;
  std::shared_ptr<watched_queue> queue;
  wake_signal* signal = nullptr;
  caf::actor batcher;
  caf::actor supervisor;
  reader_limits limits;
  size_t outstanding_records = 0;
  size_t outstanding_bytes = 0;
  std::vector<rd_kafka_message_t*> scratch;
  /// The last drain took nothing yet found the queue not empty and woke
  /// the reader again; a second such drain wakes it 10 ms later (`drain`).
  bool woke_on_nothing = false;
  prometheus::Counter* polled = nullptr;
  prometheus::Counter* throughput = nullptr;
  /// FilterCriteria, this reader's own copy (scratch buffer); empty: all
  /// records pass.
  codecs::record_filter filter;
  prometheus::Counter* filtered_out = nullptr;
  /// The mapping's schema registry; null: none. A chunk waiting for a
  /// schema (or for the registry to come back) is parked with the index
  /// of its first record not yet decoded; nothing more is drained until it
  /// goes on.
  transport::schema_decoding_ptr schemas;
  std::shared_ptr<transport::record_chunk> parked;
  size_t parked_next = 0;
  bool retry_armed = false;
  prometheus::Counter* schema_errors = nullptr;
  /// The offset after the last record taken from the queue (-1: none yet).
  /// After a fetch restart the queue may hold records again from before
  /// it; they are dropped, never passed on twice.
  int64_t next_offset = -1;
  /// Published for the supervisor's fetch-stall check.
  std::shared_ptr<reader_probe> probe;
  /// The mapping's shared budget and this reader's grant from it; null:
  /// `limits.max_bytes` is all it may hold.
  reader_budget_ptr budget;
  std::shared_ptr<reader_budget::share> share;
  /// Bytes a record of the last chunk took (`record_chunk::bytes`): a take
  /// asks for no more records than fit under the byte limit by it.
  size_t record_bytes = 1024;

  reader_state() = default;
  reader_state(const reader_state&) = delete;
  reader_state& operator=(const reader_state&) = delete;
  /// Gives the grant back (CAF destroys the state when the actor exits).
  ~reader_state() {
    if (budget && share)
      budget->close(*share);
  }

  static inline const char* name = "kesm.partition_reader";
};

/// One per assigned partition: drains the partition's own librdkafka queue
/// (split off the consumer queue) when woken by the queue's event callback,
/// never waiting on it, and hands ordered record chunks to its poller's
/// batcher. Stops draining while its outstanding records or bytes are at
/// their limit; credit from the batcher resumes it. With the mapping's
/// `budget`, its byte limit is `limits.max_bytes` plus what it was granted:
/// at the limit it asks for a step, and waits for the budget's wake-up
/// when none is free; it gives steps back as its credit comes in. A take
/// asks for no more records than fit under the byte limit at the last
/// chunk's bytes a record (one record over at most, as a rule); at the
/// limit it waits for room for a drain step (or half its limit) before it
/// takes again. Fetch errors are reported to the supervisor as
/// `(wake_atom, std::string)`.
///
/// FilterCriteria: records that match no filter are left out of the chunk
/// (counted in `filtered_out`); a chunk is sent even when none is left, so
/// that the batcher can commit past them in order (`next_offset`).
///
/// It does nothing until its first `wake_atom`, which the supervisor sends
/// after the batcher knows the partition (so no chunk can overtake that).
///
/// With `skip_before_ts`, records older than it (at the start of the
/// partition only) are not batched; the reader reports
/// `(skipped_atom, partition, generation, next_offset)` to the supervisor,
/// which stores that offset for commit.
///
/// Schema registry: records are checked and decoded (transport/
/// schema_decode) before filtering, so filters see decoded values; a
/// chunk whose schema is being fetched waits (`schema_atom` from the
/// fetch thread resumes it), and one whose registry is down waits too,
/// retried every second, with `PROBLEM: <registry error>` reported to the
/// supervisor. Records that fail their check stay in the chunk, marked,
/// for the batcher to send to the on-failure destination in order.
///
/// Fetch restarts: the reader publishes its drains and next offset in
/// `probe`; when its queue stays empty for `limits.kick_after` the
/// supervisor restarts the partition's fetch at that offset if the log
/// has more (see `reader_limits::kick_after`). Records from before
/// `next_offset` that reach the queue again are dropped.
///
/// Messages: `wake_atom`; `schema_atom`;
/// `(credit_atom, uint64_t records, uint64_t bytes)`;
/// `(config_atom, filter_ptr, uint64_t batch_size)`: a new filter and
/// BatchSize (live update; the record limit grows to fit a full batch).
caf::behavior partition_reader(caf::stateful_actor<reader_state>* self,
                               std::string topic, int32_t partition,
                               uint64_t generation, int64_t skip_before_ts,
                               std::shared_ptr<watched_queue> queue,
                               wake_signal* signal, caf::actor batcher,
                               caf::actor supervisor, reader_limits limits,
                               std::shared_ptr<reader_probe> probe,
                               transport::mapping_counters counters = {},
                               std::shared_ptr<const codecs::record_filter>
                                 filter
                               = nullptr,
                               transport::schema_decoding_ptr schemas
                               = nullptr,
                               reader_budget_ptr budget = nullptr);

using filter_ptr = std::shared_ptr<const codecs::record_filter>;

} // namespace kesm::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kesm::actors::filter_ptr)
