#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "codecs/record.hpp"
#include "transport/kafka.hpp"

namespace kesm::transport {

/// What one record costs in memory besides its key, value and header
/// bytes (librdkafka's message and op, parsed headers, our views): counted
/// in every credit, so memory limits hold for small records too.
constexpr size_t record_overhead = 512;

/// Consecutive records of one partition, as one drain of its queue
/// returned them. Owns the librdkafka messages (or, in tests, plain
/// strings); `records` and `headers` point into those buffers, so nothing
/// is copied between the broker's fetch and the event encoder.
/// Immutable once built; shared read-only between actors.
struct record_chunk {
  std::string topic;
  int32_t partition = 0;
  std::vector<message_ptr> messages;
  /// Backing storage for chunks built without librdkafka (tests, bench).
  std::vector<std::string> storage;
  /// Decoded keys and values (schema registry, JSON mode) and the reasons
  /// of records that failed their schema check; a deque, so records may
  /// point into it while it grows. `pins` keeps their schemas alive.
  std::deque<std::string> decoded;
  std::vector<std::shared_ptr<const void>> pins;
  std::vector<codecs::header_view> headers;
  std::vector<codecs::record_view> records;
  /// Per record: `event_writer::record_variable_size` + 1 (its comma),
  /// computed once here, on the reader's worker, for the batcher.
  std::vector<uint32_t> costs;
  /// Key, value and header bytes plus `record_overhead` per record: what
  /// the reader's credit counts.
  size_t bytes = 0;
  /// The offset after the last record read into this chunk, kept ones or
  /// not: committing it also covers records the reader left out (filtered,
  /// or before an AT_TIMESTAMP start). -1: unknown.
  int64_t next_offset = -1;
};

/// Keeps the records of `c` for which `keep(record)` holds, in order, with
/// their costs, messages and bytes; frees the others' messages. Returns
/// how many were dropped. `c.next_offset` is unchanged.
template <class Pred>
size_t retain_records(record_chunk& c, Pred&& keep) {
  size_t out = 0;
  const size_t n = c.records.size();
  for (size_t i = 0; i < n; ++i) {
    auto& r = c.records[i];
    if (!keep(static_cast<const codecs::record_view&>(r))) {
      size_t b = r.key_len + r.value_len + record_overhead;
      for (size_t h = 0; h < r.header_count; ++h)
        b += r.headers[h].value_len;
      c.bytes -= b < c.bytes ? b : c.bytes;
      if (i < c.messages.size())
        c.messages[i].reset();
      continue;
    }
    if (out != i) {
      c.records[out] = r;
      c.costs[out] = c.costs[i];
      if (i < c.messages.size())
        c.messages[out] = std::move(c.messages[i]);
    }
    ++out;
  }
  c.records.resize(out);
  c.costs.resize(out);
  if (c.messages.size() >= n)
    c.messages.resize(out);
  return n - out;
}

using chunk_ptr = std::shared_ptr<const record_chunk>;

/// Appends the headers of the consumed message `msg` to `out`, as views
/// into the message's own buffers (valid while it lives); returns their
/// value bytes. With librdkafka 2.0.2 it reads the header bytes of the
/// fetch response directly (no parse into librdkafka's header list: no
/// allocation per header, nothing to free with the message); otherwise,
/// or if a check of librdkafka's layout ever fails, through
/// `rd_kafka_message_headers`. docs/architecture.md, "Reading headers".
size_t append_headers(const rd_kafka_message_t* msg,
                      std::vector<codecs::header_view>& out);

/// Whether `append_headers` reads header bytes directly. Off when the
/// librdkafka version is not the one whose layout kesm mirrors, when
/// KESM_DIRECT_HEADERS=0, or after a failed layout check.
bool direct_headers();

/// Tests: turns direct reading on or off (on only where supported);
/// returns the previous setting.
bool set_direct_headers(bool on);

/// Builds a chunk from messages of one partition; takes ownership of
/// `msgs[0..n)`. Messages with an error are not records: they are
/// destroyed and their text is appended to `errors`.
std::shared_ptr<record_chunk> make_chunk(const std::string& topic, int32_t partition,
                     rd_kafka_message_t** msgs, size_t n,
                     std::vector<std::string>* errors);

} // namespace kesm::transport
