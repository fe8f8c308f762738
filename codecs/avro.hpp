#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/expected.hpp"

namespace kesm::codecs {

/// An Avro schema compiled for decoding Avro's binary encoding straight to
/// JSON text (esm-spec.md section 6), without a generic value tree.
///
/// JSON mapping (docs/schema-registry.md): records are objects in field
/// order; unions are the branch's value itself (no `{"type": ...}`
/// wrapper); enums are their symbol; bytes and fixed are standard base64
/// strings; `decimal` (bytes or fixed) is a JSON string holding the exact
/// decimal number (`"-12.34"`); other logical types are their underlying
/// type (`date` an int, `timestamp-millis` a long, `uuid` a string); float
/// and double are JSON numbers, NaN and infinities the strings `"NaN"`,
/// `"Infinity"`, `"-Infinity"`; longs are JSON integers.
///
/// Immutable after `compile`: any thread may decode with it at once.
class avro_schema {
public:
  /// Compiles the schema's JSON text. `references` are other schemas
  /// (Confluent schema references) whose named types this one may use.
  static expected<avro_schema>
  compile(std::string_view schema_json,
          const std::vector<std::string>& references = {});

  /// Appends the JSON of the one datum encoded in `data[0..len)` to `out`;
  /// an error (and `out` unchanged in length) when the bytes are cut
  /// short, hold a bad union branch or enum index, or leave bytes over.
  expected<bool> to_json(const uint8_t* data, size_t len,
                         std::string& out) const;

  struct node;

private:
  std::shared_ptr<const std::vector<std::unique_ptr<node>>> nodes_;
  const node* root_ = nullptr;
};

} // namespace kesm::codecs
