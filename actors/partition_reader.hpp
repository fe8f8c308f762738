#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/wake_signal.hpp"

namespace kesm::actors {

/// Limits of one reader: records and bytes handed to its batcher and not
/// yet finished. Together with librdkafka's per-partition pre-fetch limit
/// (`queued.max.messages.kbytes`) they bound memory whatever the backlog.
struct reader_limits {
  size_t max_records = 20000;
  size_t max_bytes = 8 * 1024 * 1024;
  /// Records taken from the queue per wake-up before yielding.
  size_t drain_step = 1000;
};

/// State of one partition reader. Touched only by that actor.
struct reader_state {
  std::string topic;
  int32_t partition = 0;
  std::shared_ptr<watched_queue> queue;
  wake_signal* signal = nullptr;
  caf::actor batcher;
  caf::actor supervisor;
  reader_limits limits;
  size_t outstanding_records = 0;
  size_t outstanding_bytes = 0;
  std::vector<rd_kafka_message_t*> scratch;

  static inline const char* name = "kesm.partition_reader";
};

/// One per assigned partition: drains the partition's own librdkafka queue
/// (split off the consumer queue) when woken by the queue's event callback,
/// never waiting on it, and hands ordered record chunks to its poller's
/// batcher. Stops draining while its outstanding records or bytes are at
/// their limit; credit from the batcher resumes it. Fetch errors are
/// reported to the supervisor as `(wake_atom, std::string)`.
///
/// Filter hook: records pass straight through today; FilterCriteria
/// (issue 6) plugs in between `make_chunk` and the send to the batcher.
///
/// It does nothing until its first `wake_atom`, which the supervisor sends
/// after the batcher knows the partition (so no chunk can overtake that).
///
/// Messages: `wake_atom`; `(credit_atom, uint64_t records, uint64_t bytes)`.
caf::behavior partition_reader(caf::stateful_actor<reader_state>* self,
                               std::string topic, int32_t partition,
                               std::shared_ptr<watched_queue> queue,
                               wake_signal* signal, caf::actor batcher,
                               caf::actor supervisor, reader_limits limits);

} // namespace kesm::actors
