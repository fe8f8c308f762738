#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/expected.hpp"
#include "codecs/mapping_config.hpp"

namespace kesm::codecs {

/// A function target declared in the config file's `functions`.
struct function_config {
  std::string name;
  /// `http://` or `https://` endpoint that receives the event as POST body.
  std::string url;
  /// Per-invocation timeout, 1..840 s (Lambda's 14-minute cap).
  int timeout_seconds = 30;
};

/// The whole `kesm serve --config` file (README: "Configuration").
struct service_config {
  std::map<std::string, function_config> functions;
  cluster_map clusters;
  std::vector<mapping_config> mappings;
  /// Extra librdkafka consumer properties for every mapping (`kafka`).
  std::map<std::string, std::string> kafka;
};

/// Parses and validates a config file's text. Every mapping is validated
/// as CreateEventSourceMapping and must name a declared function; errors
/// say which mapping (by index) and which field.
expected<service_config> parse_service_config(std::string_view json,
                                              int64_t now_ms);

} // namespace kesm::codecs
