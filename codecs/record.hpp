#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kesm::codecs {

/// One Kafka record header, pointing into buffers someone else owns.
struct header_view {
  std::string_view name;
  /// nullptr for a header without a value.
  const void* value = nullptr;
  size_t value_len = 0;
};

/// The schema a registry decoded or checked a record's key or value with
/// (esm-spec.md section 6); owned by the schema cache, shared by chunks.
struct schema_meta {
  /// `AVRO`, `PROTOBUF` or `JSON`.
  std::string_view data_format;
  /// The registry's id: a number (Confluent) or a version UUID (Glue).
  std::string_view schema_id;
};

/// How the broker stamped a record.
enum class timestamp_type : uint8_t { create_time, log_append_time };

/// One Kafka record, pointing into buffers someone else owns (librdkafka's
/// message buffers in production, test strings in tests). Never owns data.
struct record_view {
  int64_t offset = 0;
  /// Epoch milliseconds.
  int64_t timestamp = 0;
  timestamp_type ts_type = timestamp_type::create_time;
  /// nullptr: the record has no key (the event omits `key`).
  const void* key = nullptr;
  size_t key_len = 0;
  /// nullptr: a tombstone (the event says `"value":null`).
  const void* value = nullptr;
  size_t value_len = 0;
  const header_view* headers = nullptr;
  size_t header_count = 0;
  /// Set when a schema registry decoded or checked the key / value: the
  /// event then carries `keySchemaMetadata` / `valueSchemaMetadata`.
  const schema_meta* key_schema = nullptr;
  const schema_meta* value_schema = nullptr;
  /// Non-null: the record failed its schema check (no wire header, an
  /// unknown schema, bytes that do not decode); it is never sent, it goes
  /// to the on-failure destination. Points at text its chunk owns.
  const char* schema_error = nullptr;
};

/// Consecutive records of one partition, in offset order.
struct partition_slice {
  std::string_view topic;
  int32_t partition = 0;
  const record_view* records = nullptr;
  size_t count = 0;
};

} // namespace kesm::codecs
