#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "codecs/record.hpp"

namespace kesm::codecs {

/// The largest event Lambda accepts: 6 MB of encoded JSON.
constexpr size_t max_payload_bytes = 6 * 1024 * 1024;

/// Writes the event JSON that Lambda's Kafka trigger sends (esm-spec.md
/// section 1), byte-exactly and straight from the record buffers: no DOM,
/// one pass, base64 written in place. Immutable after construction, so any
/// thread may use one instance concurrently.
class event_writer {
public:
  /// `event_source_arn` non-empty: an MSK mapping (`aws:kafka` + ARN);
  /// empty: a self-managed one (`SelfManagedKafka`, no ARN).
  event_writer(std::string_view event_source_arn,
               std::string_view bootstrap_servers);

  /// Appends one whole event holding `n` partition slices to `out`.
  /// `size_bound`, when not 0, is at least what the event takes, summed by
  /// the caller from this class's size functions (the batcher does, for
  /// its payload cap); `write` then does not size the event again.
  void write(std::string& out, const partition_slice* slices, size_t n,
             size_t size_bound = 0) const;

  /// Like `write`, but `out` becomes the event: its old bytes are written
  /// over, not kept, and not zeroed first (a reused buffer of a few
  /// hundred KB is filled once, not twice). Only growth past `out`'s old
  /// size is zeroed.
  void overwrite(std::string& out, const partition_slice* slices, size_t n,
                 size_t size_bound = 0) const;

  /// Exact length of what `write` produces for these slices.
  size_t event_size(const partition_slice* slices, size_t n) const;

  /// Bytes of the event around the partitions (`{...,"records":{` + `}}`).
  size_t frame_size() const noexcept {
    return prefix_.size() + 2;
  }

  /// Bytes one partition adds besides its records (`"t-0":[` + `]`).
  static size_t partition_size(std::string_view topic, int32_t partition);

  /// Bytes one record adds (its object, without a separating comma):
  /// `record_fixed_size(topic, partition) + record_variable_size(r)`.
  static size_t record_size(std::string_view topic, int32_t partition,
                            const record_view& r) {
    return record_fixed_size(topic, partition) + record_variable_size(r);
  }

  /// The part of a record's size that depends only on its partition.
  static size_t record_fixed_size(std::string_view topic, int32_t partition);

  /// The part of a record's size that depends on the record itself.
  static size_t record_variable_size(const record_view& r);

  /// Appends `s` as a JSON string literal (quotes included).
  static void append_json_string(std::string& out, std::string_view s);

private:
  void write_at(std::string& out, size_t at, const partition_slice* slices,
                size_t n, size_t size_bound) const;

  std::string prefix_;
};

} // namespace kesm::codecs
