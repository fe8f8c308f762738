#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "codecs/expected.hpp"

namespace kesm::codecs {

/// A JSON Schema (draft-07 and 2020-12 keywords as schema registries use
/// them) compiled for validating record values: type, enum, const,
/// properties, required, additionalProperties, patternProperties,
/// propertyNames, min/maxProperties, dependentRequired / dependencies,
/// items (schema or tuple), prefixItems, additionalItems, min/maxItems,
/// uniqueItems, contains, min/maxLength, pattern, minimum, maximum,
/// exclusiveMinimum/Maximum (number or draft-4 boolean), multipleOf,
/// allOf, anyOf, oneOf, not, if/then/else, and `$ref` to `#` or a JSON
/// pointer into the same document (`#/definitions/...`, `#/$defs/...`).
/// `format` and other annotations are not checked, as the specification
/// allows. Immutable after `compile`: thread-safe.
class json_schema {
public:
  static expected<json_schema> compile(std::string_view schema_json);

  /// Validates the JSON text `doc`; the error says where (a JSON pointer)
  /// and which keyword failed.
  expected<bool> validate(std::string_view doc) const;

  struct node;

private:
  std::shared_ptr<const node> root_;
};

} // namespace kesm::codecs
