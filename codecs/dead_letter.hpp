#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "codecs/record.hpp"

namespace kesm::codecs {

/// Why a record went to the on-failure destination (esm-spec.md section 4).
enum class failure_condition : uint8_t {
  retry_attempts_exhausted,
  record_age_exceeded,
  payload_size_exceeded,
  /// kesm's: the record failed its schema-registry check (no wire prefix,
  /// unknown schema, bytes that do not decode); it was never sent.
  schema_validation_failed,
};

/// `RetryAttemptsExhausted`, `RecordAgeExceeded`,
/// `MaximumPayloadSizeExceeded`, `SchemaValidationFailed`.
std::string_view to_string(failure_condition c);

/// What a dead-letter envelope says about the mapping.
struct dead_letter_source {
  std::string_view function_arn;
  /// Empty for a self-managed cluster: the field is then left out.
  std::string_view event_source_arn;
  std::string_view bootstrap_servers;
};

/// The function's last answer, for `responseContext`.
struct dead_letter_response {
  /// HTTP status; 0 when the call got no answer (timeout, refused).
  int status = 0;
  /// Writes `"functionError"`: `function_error_type`, or `Unhandled`.
  bool function_error = true;
  std::string_view function_error_type;
  /// `executedVersion`: the answer's, or `$LATEST`.
  std::string_view executed_version;
};

/// Appends the envelope of one failed record (esm-spec.md section 4) to
/// `out`: requestContext, responseContext (`null` when `response` is
/// null), version, timestamp (`now_ms`), KafkaBatchInfo with recordInfo,
/// and `payload`, the one-record event (written verbatim; its length is
/// `payloadSize`).
void write_dead_letter(std::string& out, const dead_letter_source& src,
                       std::string_view request_id, failure_condition cond,
                       uint32_t invoke_count,
                       const dead_letter_response* response, int64_t now_ms,
                       const record_view& record, std::string_view payload);

/// `2019-11-14T18:16:05.568Z` for epoch milliseconds.
std::string iso8601_ms(int64_t epoch_ms);

} // namespace kesm::codecs
