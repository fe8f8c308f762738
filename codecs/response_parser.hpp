#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "codecs/expected.hpp"

namespace kesm::codecs {

/// One entry of `batchItemFailures`: the record to restart from.
struct item_failure {
  /// `"<topic>-<partition>"`, as the event's `records` keys.
  std::string partition;
  int64_t offset = 0;
};

/// What a function answered, as far as kesm cares.
struct function_response {
  /// Empty: the whole batch succeeded.
  std::vector<item_failure> failures;
};

/// Parses a function's answer body (esm-spec.md section 4): an empty body,
/// `null`, `{}`, an object without or with an empty/null
/// `batchItemFailures` all mean full success; otherwise every entry must be
/// `{"itemIdentifier":{"partition":"t-0","offset":N}}` (N a number or a
/// string of digits). Anything else is an `errc::invalid_json` or
/// `errc::invalid_shape` error. Owns one reused simdjson parser: one
/// instance per thread or actor.
class response_parser {
public:
  expected<function_response> parse(std::string_view body);

private:
  // DOM, not on-demand: Debian's simdjson picks its on-demand kernel at
  // compile time (the portable fallback), the DOM kernel at run time
  // (AVX2 where present); a DOM parse also validates the whole answer.
  simdjson::dom::parser parser_;
};

} // namespace kesm::codecs
