#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "codecs/expected.hpp"

namespace kesm::codecs {

namespace filter_detail {
struct node;
} // namespace filter_detail

/// Lambda's FilterCriteria for Kafka (esm-spec.md section 5), compiled once:
/// up to 5 EventBridge patterns, OR-ed, that look at the record `value`.
///
/// kesm decides where EventBridge's documentation is silent:
/// - numbers compare as numbers everywhere (300, 300.0 and 3e2 are equal;
///   the string "300" is not the number 300);
/// - `exists` works on leaves: `true` matches a present field that is not an
///   object (null included), `false` an absent one;
/// - an array in the record matches when any element matches;
/// - `equals-ignore-case` folds ASCII letters only;
/// - a value that is valid JSON is matched as JSON; other UTF-8 text as a
///   string; a value that is not UTF-8 only by `{"value":[{"exists":true}]}`;
///   a tombstone is the JSON `null`.
///
/// `matches` is not thread-safe: it reuses one parser and one padded
/// scratch buffer, so each record is parsed at most once and nothing is
/// allocated per record once they have grown. One instance per reader.
class record_filter {
public:
  record_filter();
  ~record_filter();
  record_filter(record_filter&&) noexcept;
  record_filter& operator=(record_filter&&) noexcept;

  /// Compiles the patterns; the error names the filter, the problem, the
  /// key path, the operator and the character offset in the pattern.
  /// `allow_key`: patterns may also look at the record `key` (a mapping
  /// with a schema registry, whose keys may be decoded JSON).
  static expected<record_filter> compile(const std::vector<std::string>& patterns,
                                         bool allow_key = false);

  /// No patterns: every record matches.
  bool empty() const noexcept {
    return patterns_.empty();
  }

  /// Whether the record with this value (nullptr: a tombstone) and key
  /// (nullptr: none, matched as `null`) passes.
  bool matches(const void* value, size_t len, const void* key = nullptr,
               size_t key_len = 0);

  /// A copy with its own scratch state, for another reader.
  record_filter clone() const;

private:
  std::vector<std::shared_ptr<const filter_detail::node>> patterns_;
  simdjson::dom::parser parser_;
  std::unique_ptr<char[]> scratch_;
  size_t scratch_cap_ = 0;
  /// Some pattern looks at `key`: its own parser and scratch.
  bool uses_key_ = false;
  simdjson::dom::parser key_parser_;
  std::unique_ptr<char[]> key_scratch_;
  size_t key_scratch_cap_ = 0;
};

/// The offset of the first JSON syntax error in `text`, or npos when it is
/// well-formed (for error messages that point at the character).
size_t json_error_offset(std::string_view text);

} // namespace kesm::codecs
