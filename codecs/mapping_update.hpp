#pragma once

#include <string>
#include <string_view>

#include "codecs/expected.hpp"

namespace kesm::codecs {

/// Applies an UpdateEventSourceMapping body to a stored mapping document
/// (CreateEventSourceMapping JSON) and returns the merged document, to be
/// validated again with `parse_mapping`. Create-only fields (EventSourceArn,
/// Topics, SelfManagedEventSource, StartingPosition,
/// StartingPositionTimestamp, Tags) are refused with Lambda's
/// `InvalidParameterValueException` wording; so are fields kesm refuses at
/// create. The consumer group id may be repeated but not changed (the caller
/// compares the parsed results).
expected<std::string> apply_update(std::string_view document,
                                   std::string_view update);

} // namespace kesm::codecs
