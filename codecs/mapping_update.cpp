#include "codecs/mapping_update.hpp"

#include <set>

#include <simdjson.h>

namespace kesm::codecs {

namespace {

const std::set<std::string_view> create_only = {
  "EventSourceArn", "Topics", "SelfManagedEventSource", "StartingPosition",
  "StartingPositionTimestamp", "Tags", "Queues",
};

const std::set<std::string_view> updatable = {
  "FunctionName", "Enabled", "BatchSize", "MaximumBatchingWindowInSeconds",
  "AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig",
  "FilterCriteria", "DestinationConfig", "MaximumRecordAgeInSeconds",
  "BisectBatchOnFunctionError", "MaximumRetryAttempts",
  "SourceAccessConfigurations", "FunctionResponseTypes", "KMSKeyArn",
  "MetricsConfig", "LoggingConfig", "ProvisionedPollerConfig",
};

const std::set<std::string_view> non_kafka = {
  "ParallelizationFactor", "TumblingWindowInSeconds", "ScalingConfig",
  "DocumentDBEventSourceConfig",
};

error invalid(std::string msg) {
  return error{errc::invalid_parameter, std::move(msg)};
}

} // namespace

expected<std::string> apply_update(std::string_view document,
                                   std::string_view update) {
  simdjson::dom::parser doc_parser, upd_parser;
  simdjson::dom::object doc, upd;
  if (doc_parser.parse(document.data(), document.size()).get_object().get(doc))
    return invalid("the stored mapping document is not a JSON object");
  if (upd_parser.parse(update.data(), update.size()).get_object().get(upd))
    return invalid("Could not parse request body into json: the update must"
                   " be a JSON object");
  std::set<std::string_view> replaced;
  for (auto [key, val] : upd) {
    if (key == "UUID")
      continue; // the path names the mapping; a body copy is harmless
    if (create_only.count(key))
      return invalid(std::string(key) + " cannot be updated: it is set only"
                     " when the event source mapping is created");
    if (non_kafka.count(key))
      return invalid(std::string(key)
                     + " is not supported for Kafka event sources");
    if (!updatable.count(key))
      return invalid(std::string(key) + " is not supported in an update of"
                     " a Kafka event source mapping by this kesm version");
    replaced.insert(key);
  }
  std::string out = "{";
  auto add = [&](std::string_view key, simdjson::dom::element val) {
    if (out.size() > 1)
      out += ',';
    out += '"';
    out += key; // keys come from parsed JSON field names: [A-Za-z]
    out += "\":";
    out += simdjson::minify(val);
  };
  for (auto [key, val] : doc)
    if (!replaced.count(key))
      add(key, val);
  for (auto [key, val] : upd)
    if (replaced.count(key))
      add(key, val);
  out += '}';
  return out;
}

} // namespace kesm::codecs
