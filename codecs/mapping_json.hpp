#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "codecs/mapping_config.hpp"

namespace kesm::codecs {

/// Region and account that ARNs are formed with (configurable, as kesm is
/// not in any AWS account).
struct arn_context {
  std::string region = "us-east-1";
  std::string account = "000000000000";
};

/// What a mapping's configuration JSON reports besides its definition.
struct mapping_runtime {
  /// Creating, Enabling, Enabled, Disabling, Disabled, Updating, Deleting.
  std::string state = "Creating";
  std::string state_transition_reason = "USER_INITIATED";
  /// `OK`, `PROBLEM: <cause>`, or `No records processed`.
  std::string last_processing_result = "No records processed";
  /// Epoch seconds.
  int64_t last_modified = 0;
};

/// `arn:aws:lambda:<region>:<account>:function:<name>`; a name that is
/// already an ARN is returned as it is.
std::string function_arn(const std::string& name, const arn_context& ctx);

/// `arn:aws:lambda:<region>:<account>:event-source-mapping:<uuid>`.
/// `s` cut to at most `max` bytes (with "..." when cut) and made valid
/// UTF-8 (bad bytes become U+FFFD): for error messages that quote what a
/// caller sent.
std::string safe_text(std::string_view s, size_t max = 1024);

/// Lambda's error body `{"Type":<kind>,"message":<message>}` (kind `User`
/// or `Service`), the message passed through `safe_text`.
std::string error_body(std::string_view kind, std::string_view message);

std::string mapping_arn(const std::string& uuid, const arn_context& ctx);

/// The mapping as Lambda's `EventSourceMappingConfiguration` JSON (what
/// Create, Get, Update, Delete and List return), with Lambda's field names.
std::string to_configuration_json(const mapping_config& m,
                                  const mapping_runtime& rt,
                                  const arn_context& ctx);

} // namespace kesm::codecs
