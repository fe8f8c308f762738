#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "codecs/expected.hpp"

namespace kesm::codecs {

/// A Protobuf schema from a registry's `.proto` text (and the `.proto`
/// files it imports, by import path), parsed with libprotoc into a
/// descriptor pool over the well-known types libprotobuf carries, decoded
/// with DynamicMessage and printed by libprotobuf's JSON printer
/// (proto3 JSON mapping: int64/uint64 as strings, enums by name, bytes in
/// base64, `Any` and well-known types in their JSON forms; field names as
/// the `.proto` spells them; fields at their default value left out).
/// Immutable after `compile`: thread-safe.
class protobuf_schema {
public:
  /// `main`: the schema's text; `imports`: (import path, text) pairs.
  static expected<protobuf_schema>
  compile(const std::string& main,
          const std::vector<std::pair<std::string, std::string>>& imports);

  /// Appends the JSON of the message `indexes` names (Confluent's message
  /// indexes: the top-level message, then nested ones) decoded from
  /// `data[0..len)`.
  expected<bool> to_json(const std::vector<int>& indexes, const uint8_t* data,
                         size_t len, std::string& out) const;

  /// The first top-level message's full name (Glue payloads name none).
  struct state;

private:
  std::shared_ptr<const state> st_;
};

} // namespace kesm::codecs
