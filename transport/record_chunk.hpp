#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "codecs/record.hpp"
#include "transport/kafka.hpp"
#include "transport/vector_pool.hpp"

namespace kesm::transport {

/// What one record costs in memory besides its key, value and header
/// bytes (librdkafka's message and op, parsed headers, our views): counted
/// in every credit, so memory limits hold for small records too.
constexpr size_t record_overhead = 512;

/// Byte buffers for records copied out of librdkafka's messages, kept for
/// reuse: a buffer goes back to its size class when its chunk is freed,
/// so its pages are faulted in once, not for every chunk (a page fault
/// costs 1.3-6 us on the benchmark machine). Buffers are sized in powers
/// of two from 4 KB to 16 MB; at most `max_idle_bytes` wait idle, the
/// rest are freed. Thread-safe; one lock per chunk, none per record.
class byte_pool {
public:
  static constexpr size_t min_class = 12, max_class = 24;
  static constexpr size_t max_idle_bytes = size_t{32} << 20;

  struct giver {
    size_t capacity = 0;
    void operator()(char* p) const noexcept;
  };
  using buffer = std::unique_ptr<char[], giver>;

  /// A buffer of at least `n` bytes (its contents are whatever the last
  /// user left).
  static buffer take(size_t n);
  /// Bytes waiting idle in the pool, for tests.
  static size_t idle_bytes();

private:
  static void give_back(char* p, size_t capacity) noexcept;
};

/// Consecutive records of one partition, as one drain of its queue
/// returned them. By default the keys, values and headers are copied into
/// one pooled buffer (`copied`) and librdkafka's messages are destroyed
/// at once, as a plain consumer does: a record does not keep its whole
/// fetch response alive, so librdkafka reuses its response buffers
/// instead of reading each response into fresh pages
/// (docs/benchmarks.md, "Records copied out"). With KESM_COPY_RECORDS=0
/// the chunk owns the messages and `records` point into them (zero
/// copy). Chunks built without librdkafka (tests) point into `storage`.
/// Immutable once built; shared read-only between actors.
struct record_chunk {
  std::string topic;
  int32_t partition = 0;
  std::vector<message_ptr> messages;
  byte_pool::buffer copied;
  /// Bytes of `copied` in use.
  size_t copy_bytes = 0;
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

  record_chunk() = default;
  record_chunk(const record_chunk&) = delete;
  record_chunk& operator=(const record_chunk&) = delete;
  record_chunk(record_chunk&&) = default;
  record_chunk& operator=(record_chunk&&) = default;
  /// Gives the arrays back to their pools (`make_chunk` takes from them).
  ~record_chunk();
};

/// The pools of the arrays chunks and batches are built in.
vector_pool<codecs::record_view>& record_view_pool();
vector_pool<codecs::header_view>& header_view_pool();

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

/// Whether `make_chunk` copies records out of librdkafka's messages (the
/// default; KESM_COPY_RECORDS=0 turns it off).
bool copy_records();

/// Tests: turns copying on or off; returns the previous setting.
bool set_copy_records(bool on);

/// Builds a chunk from messages of one partition; takes ownership of
/// `msgs[0..n)`. Messages with an error are not records: they are
/// destroyed and their text is appended to `errors`.
std::shared_ptr<record_chunk> make_chunk(const std::string& topic, int32_t partition,
                     rd_kafka_message_t** msgs, size_t n,
                     std::vector<std::string>* errors);

} // namespace kesm::transport
