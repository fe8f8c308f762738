#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/expected.hpp"

namespace kesm::codecs {

/// Where a consumer group without a committed offset starts.
enum class starting_position { trim_horizon, latest, at_timestamp };

/// MSK cluster ARN -> bootstrap servers, from the config file's `clusters`.
using cluster_map = std::map<std::string, std::vector<std::string>>;

/// `SchemaRegistryConfig` of a Kafka event source config (esm-spec.md
/// section 6), validated.
struct schema_registry_config {
  /// A Confluent-compatible registry URL (http:// or https://) or a Glue
  /// registry ARN; empty: no registry.
  std::string uri;
  /// `EventRecordFormat`: JSON (decoded) or SOURCE (bytes minus the wire
  /// prefix).
  bool json_format = true;
  /// `SchemaValidationConfigs`: which attributes are checked and decoded.
  bool key = false;
  bool value = false;
  /// `AccessConfigs` secret ARNs (Confluent only).
  std::string basic_auth;
  std::string client_certificate;
  std::string root_ca;
  /// The object as given (minified), returned by the API.
  std::string echo;

  bool enabled() const {
    return !uri.empty();
  }
  bool glue() const {
    return uri.rfind("arn:", 0) == 0;
  }
  bool operator==(const schema_registry_config& o) const {
    return echo == o.echo;
  }
  bool operator!=(const schema_registry_config& o) const {
    return !(*this == o);
  }
};

/// One event source mapping, validated (esm-spec.md sections 2, 3, 9).
/// A plain value: copied into the actors that run it.
struct mapping_config {
  std::string uuid;
  std::string function_name;
  std::string topic;
  /// Non-empty for an MSK mapping (`EventSourceArn`); empty when the
  /// mapping is self-managed.
  std::string event_source_arn;
  /// Resolved bootstrap list (self-managed endpoints, or the ARN's cluster).
  std::vector<std::string> bootstrap_servers;
  starting_position start = starting_position::latest;
  /// Epoch milliseconds, only with `at_timestamp`.
  int64_t start_timestamp_ms = 0;
  int32_t batch_size = 100;
  /// `MaximumBatchingWindowInSeconds` in ms; 500 ms when never set.
  int32_t window_ms = 500;
  /// Whether `MaximumBatchingWindowInSeconds` was given.
  bool window_set = false;
  bool enabled = true;
  /// The group id; the mapping's UUID unless the config names one.
  std::string consumer_group_id;
  /// `SchemaRegistryConfig` beside the group id.
  schema_registry_config schema_registry;

  // Failure handling (esm-spec.md section 4).
  /// `MaximumRetryAttempts`: -1 infinite, else retries after the first
  /// attempt. Use `retry_limit()` for the effective value.
  int32_t max_retry_attempts = -1;
  /// `MaximumRecordAgeInSeconds`: -1 infinite, else 60..604800.
  int32_t max_record_age_s = -1;
  bool bisect_on_error = false;
  /// `FunctionResponseTypes: ["ReportBatchItemFailures"]`.
  bool report_item_failures = false;
  /// Topic of a `kafka://<topic>` on-failure destination; empty: none.
  std::string failure_topic;
  /// `ProvisionedPollerConfig` with a minimum or maximum (esm-spec.md
  /// section 7): provisioned mode; `{}` or absent: on demand.
  bool provisioned = false;
  int32_t min_pollers = 1;
  /// 0: none of its own (on demand).
  int32_t max_pollers = 0;
  std::string poller_group;
  /// `FilterCriteria.Filters[].Pattern`, as given (OR-ed).
  std::vector<std::string> filter_patterns;
  /// Accepted fields that are stored and returned as given (minified JSON
  /// by field name): FilterCriteria, DestinationConfig,
  /// SourceAccessConfigurations, KMSKeyArn, MetricsConfig, LoggingConfig,
  /// ProvisionedPollerConfig, FunctionResponseTypes. Tags are kept here too
  /// but not returned (Lambda returns them from ListTags).
  std::map<std::string, std::string> echoed;

  /// Retries after the first attempt; -1: no limit. With an on-failure
  /// destination and -1, Lambda's effective limit of 10.
  int32_t retry_limit() const {
    if (max_retry_attempts < 0 && !failure_topic.empty())
      return 10;
    return max_retry_attempts;
  }

  /// Comma-separated bootstrap list, as the event's `bootstrapServers`.
  std::string bootstrap_string() const;
};

/// Parses and validates one CreateEventSourceMapping document. Messages
/// follow Lambda's `InvalidParameterValueException` wording and name the
/// field. `uuid` becomes the mapping's UUID (and default group id); pass an
/// empty string to have one generated. `now_ms` bounds AT_TIMESTAMP.
expected<mapping_config> parse_mapping(std::string_view json,
                                       const cluster_map& clusters,
                                       std::string uuid, int64_t now_ms);

/// A random (version 4) UUID in its canonical text form.
std::string make_uuid();

/// A UUID derived from `name` (same name, same UUID; version 5 layout,
/// FNV-1a based): config-file mappings keep their UUID, and so their
/// default consumer group and committed offsets, across restarts.
std::string name_uuid(const std::string& name);

/// `StartingPosition` text for `p`.
std::string_view to_string(starting_position p);

} // namespace kesm::codecs
