#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace kesm::transport {

/// Severity of a log line.
enum class log_level { debug, info, warning, error };

/// Writes one timestamped line to stderr; lines from different threads
/// never interleave. Lines below the threshold (default info) are dropped.
void log(log_level level, std::string_view component, std::string_view text);

/// Sets the lowest level that is written.
void set_log_level(log_level level);

/// How a line is written: `text` (`<time> <LEVEL> <component>: <message>`,
/// the default) or `json`, one object a line: `time`, `level`,
/// `component`, `uuid` (for a mapping's lines), `message`.
/// KESM_LOG_FORMAT=json sets it for every command.
enum class log_format { text, json };
void set_log_format(log_format format);

/// Tests: every written line (without its newline) also goes to `tap`,
/// under the log's lock; null to stop.
void set_log_tap(std::function<void(const std::string&)> tap);

} // namespace kesm::transport
