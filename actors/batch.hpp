#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "codecs/record.hpp"
#include "transport/record_chunk.hpp"

namespace kesm::actors {

/// The records one batch holds of one partition.
struct batch_part {
  int32_t partition = 0;
  /// Assignment generation of the partition when the batch was cut; a
  /// result for an older generation is stale (the partition was revoked).
  uint64_t generation = 0;
  int64_t first_offset = 0;
  int64_t last_offset = 0;
  size_t count = 0;
  size_t bytes = 0;
  /// The offset stored for commit once the part is done: `last_offset + 1`,
  /// or further when records after it were left out by the reader
  /// (filtered). 0: `last_offset + 1`.
  int64_t commit_to = 0;

  int64_t next_offset() const noexcept {
    return commit_to > last_offset ? commit_to : last_offset + 1;
  }
};

/// One invocation's worth of records, encoded once. Immutable after the
/// batcher builds it: retries resend the same `payload` bytes. Shared
/// read-only between batcher, invoker and supervisor.
struct batch {
  uint64_t id = 0;
  /// The poller (batcher + invoker pair) that cut it.
  size_t poller = 0;
  std::shared_ptr<const std::string> payload;
  std::vector<batch_part> parts;
  /// Keep the records' buffers alive for retries, bisect and dead letters.
  std::vector<transport::chunk_ptr> chunks;
  /// The batch's records, partition by partition, in offset order.
  std::vector<codecs::record_view> records;
  /// Non-null: the batch is one record that failed its schema check
  /// (the reason); it is not sent, it goes to the on-failure destination.
  const char* schema_error = nullptr;
  size_t record_count() const noexcept {
    return records.size();
  }

  batch() = default;
  batch(const batch&) = delete;
  batch& operator=(const batch&) = delete;
  batch(batch&&) = default;
  batch& operator=(batch&&) = default;
  /// Gives `records` back to its pool (the batcher takes from it).
  ~batch() {
    transport::record_view_pool().give(records);
  }
};

using batch_ptr = std::shared_ptr<const batch>;

/// Event buffers reused from batch to batch. A payload goes back to its
/// pool when its last holder (invoker, transport, supervisor) lets it go,
/// on whatever thread that is, so the next batch is written into memory
/// already mapped: no fresh allocation of a few hundred KB, and none of
/// the page faults that come with it, per batch. Keeps at most `keep`
/// buffers of at most `max_bytes` each. Thread-safe.
class payload_pool : public std::enable_shared_from_this<payload_pool> {
public:
  explicit payload_pool(size_t keep = 8, size_t max_bytes = 8 << 20)
    : keep_(keep), max_bytes_(max_bytes) {
    // nop
  }

  /// A buffer to write the next event over (`event_writer::overwrite`):
  /// it keeps its last event's bytes, so those pages are neither zeroed
  /// again nor faulted in again.
  std::shared_ptr<std::string> take() {
    std::unique_ptr<std::string> s;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (!free_.empty()) {
        s = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!s)
      s = std::make_unique<std::string>();
    std::weak_ptr<payload_pool> home = weak_from_this();
    return std::shared_ptr<std::string>(s.release(), [home](std::string* p) {
      std::unique_ptr<std::string> owned{p};
      if (auto pool = home.lock())
        pool->give_back(std::move(owned));
    });
  }

  size_t idle() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return free_.size();
  }

private:
  void give_back(std::unique_ptr<std::string> s) {
    if (s->capacity() > max_bytes_)
      return;
    std::lock_guard<std::mutex> guard{mtx_};
    if (free_.size() < keep_)
      free_.push_back(std::move(s));
  }

  size_t keep_;
  size_t max_bytes_;
  mutable std::mutex mtx_;
  std::vector<std::unique_ptr<std::string>> free_;
};

/// How one invocation ended (esm-spec.md section 4).
enum class outcome_kind : uint8_t {
  /// 2xx without a function error: the whole batch is done.
  success,
  /// 5xx, other non-2xx, transport error, timeout or X-Amz-Function-Error.
  function_error,
  /// 429: retried with backoff, never counted as an attempt.
  throttled,
  /// ReportBatchItemFailures answer naming records to restart from.
  partial,
  /// The batch's one record alone makes an event above the payload limit;
  /// it was not sent.
  too_large,
  /// The batch's one record failed its schema-registry check; it was not
  /// sent.
  schema_failed,
};

/// An invocation's outcome with its cause, as the supervisor sees it.
struct outcome {
  outcome_kind kind = outcome_kind::success;
  /// One line for logs and LastProcessingResult, empty on success.
  std::string detail;
  /// Wall time of the call in microseconds.
  int64_t micros = 0;
  /// HTTP status of the answer (0: none), for dead-letter envelopes.
  int status = 0;
  /// `throttled`: the function's Retry-After in milliseconds (0: none).
  int64_t retry_after_ms = 0;
  /// Lambda's X-Amz-Function-Error value and executed version, when the
  /// answer carried them (dead-letter envelopes).
  std::string function_error_type;
  std::string executed_version;
  /// `partial`: per partition, the lowest offset the function reported
  /// failed; it and the partition's later records are retried.
  std::vector<std::pair<int32_t, int64_t>> restart;
};

} // namespace kesm::actors
