#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "codecs/event_writer.hpp"

namespace kesm::actors {

/// How a batcher cuts batches (esm-spec.md section 2).
struct batcher_config {
  size_t batch_size = 100;
  /// 0: invoke as soon as records are there.
  std::chrono::milliseconds window{500};
  size_t max_payload = codecs::max_payload_bytes;
  /// Concurrent batches of one poller (Lambda: 5).
  size_t max_in_flight = 5;
  /// Index of this poller, stamped on its batches.
  size_t poller = 0;
  /// Told `(skipped_atom, partition, generation, next)` when the reader
  /// left records out (filtered) and nothing before them is outstanding.
  caf::actor supervisor;
};

/// State of one batcher actor. Touched only by that actor.
struct batcher_state {
  struct span {
    transport::chunk_ptr chunk;
    size_t next = 0; // first record not yet taken
    /// Commit point once the span's last record is done (covers records
    /// the reader left out after it).
    int64_t end = -1;
  };
  struct partition {
    caf::actor reader;
    uint64_t generation = 0;
    std::deque<span> pending;
    size_t pending_count = 0;
    /// Encoded bytes the pending records would add to an event.
    size_t pending_cost = 0;
    caf::actor_clock::time_point oldest;
    bool in_flight = false;
    /// `event_writer::record_fixed_size` of this partition, once known.
    size_t fixed_cost = 0;
    /// Left-out records' commit point, waiting for the batch in flight.
    int64_t skip_to = -1;
  };

  batcher_config cfg;
  std::shared_ptr<const codecs::event_writer> writer;
  /// Event buffers, reused (see `payload_pool`).
  std::shared_ptr<payload_pool> payloads = std::make_shared<payload_pool>();
  caf::actor invoker;
  std::map<int32_t, partition> parts;
  int32_t cursor = 0; // first partition to look at next time (fairness)
  size_t in_flight = 0;
  uint64_t next_batch_id = 1;
  uint64_t timer_id = 0;
  bool timer_armed = false;
  caf::actor_clock::time_point timer_deadline;
  bool draining = false;
  std::vector<caf::response_promise> drain_waiters;

  static inline const char* name = "kesm.batcher";
};

/// One per poller: collects the records of the poller's partitions and cuts
/// batches when BatchSize records are ready, when the batching window of
/// the oldest ready record has elapsed (window 0: at once), or before the
/// event would cross `max_payload`. A partition has at most one batch in
/// flight; one batch may hold several partitions; at most
/// `max_in_flight` batches are out at once. Encodes each batch once and
/// sends it to the invoker.
///
/// Messages:
/// - `(assign_atom, int32_t partition, uint64_t generation, actor reader)`
/// - `(revoke_atom, int32_t partition)`: drops its pending records
/// - `chunk_ptr` from a reader: records to batch
/// - `(done_atom, batch_ptr)` from the supervisor: the batch is finished
///   (committed, or abandoned); its partitions are free, readers get credit
/// - `(drain_atom)` -> `bool` once nothing is in flight; cuts no more
/// - `(config_atom, uint64_t batch_size, int64_t window_ms)`: live update;
///   batches cut from now on follow it
/// - `(slots_atom, uint64_t max_in_flight)`: scaling changed the poller's
///   share of concurrent invocations
/// - `(window_atom, uint64_t)`: its own timer
caf::behavior batcher(caf::stateful_actor<batcher_state>* self,
                      batcher_config cfg,
                      std::shared_ptr<const codecs::event_writer> writer,
                      caf::actor invoker);

} // namespace kesm::actors
