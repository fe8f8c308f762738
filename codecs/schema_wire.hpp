#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "codecs/expected.hpp"

namespace kesm::codecs {

/// The prefix a schema-registry serializer writes before the data
/// (esm-spec.md section 6).
struct wire_header {
  /// Confluent: the schema id in decimal; Glue: the schema version UUID
  /// (8-4-4-4-12 lower-case hex).
  std::string schema_id;
  /// Bytes of the prefix; the data starts there.
  size_t length = 0;
  /// Glue only: the data is zlib-compressed.
  bool zlib = false;
};

/// Confluent's prefix: magic byte 0, then the 4-byte big-endian id.
expected<wire_header> read_confluent_header(const uint8_t* p, size_t n);

/// Confluent Protobuf's message indexes after the 5-byte prefix: a
/// zig-zag varint count, then that many zig-zag varint indexes; the single
/// byte 0 means [0] (the file's first message). Advances `at`.
expected<std::vector<int>> read_protobuf_indexes(const uint8_t* p, size_t n,
                                                 size_t& at);

/// Glue's 18-byte prefix: header version 3, compression byte (0 none,
/// 5 zlib), the 16-byte schema version UUID.
expected<wire_header> read_glue_header(const uint8_t* p, size_t n);

/// Inflates zlib data (Glue's compression 5) into `out`; refuses more than
/// `max_out` bytes.
expected<bool> inflate_zlib(const uint8_t* p, size_t n, std::string& out,
                            size_t max_out);

} // namespace kesm::codecs
