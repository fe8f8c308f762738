#include "codecs/mapping_json.hpp"

#include <cstdio>

#include "codecs/event_writer.hpp"

namespace kesm::codecs {

namespace {

void field(std::string& out, const char* name) {
  if (out.size() > 1)
    out += ',';
  out += '"';
  out += name;
  out += "\":";
}

void str(std::string& out, const char* name, const std::string& value) {
  field(out, name);
  event_writer::append_json_string(out, value);
}

void num(std::string& out, const char* name, int64_t value) {
  field(out, name);
  out += std::to_string(value);
}

} // namespace

std::string function_arn(const std::string& name, const arn_context& ctx) {
  if (name.rfind("arn:", 0) == 0)
    return name;
  return "arn:aws:lambda:" + ctx.region + ":" + ctx.account + ":function:"
         + name;
}

std::string safe_text(std::string_view s, size_t max) {
  bool cut = s.size() > max;
  if (cut)
    s = s.substr(0, max);
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 0x2;
    if (ok && len == 2)
      ok = c >= 0xc2; // no overlong forms
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  if (cut)
    out += "...";
  return out;
}

std::string error_body(std::string_view kind, std::string_view message) {
  std::string body = "{\"Type\":";
  event_writer::append_json_string(body, kind);
  body += ",\"message\":";
  event_writer::append_json_string(body, safe_text(message));
  body += '}';
  return body;
}

std::string mapping_arn(const std::string& uuid, const arn_context& ctx) {
  return "arn:aws:lambda:" + ctx.region + ":" + ctx.account
         + ":event-source-mapping:" + uuid;
}

std::string to_configuration_json(const mapping_config& m,
                                  const mapping_runtime& rt,
                                  const arn_context& ctx) {
  std::string out = "{";
  str(out, "UUID", m.uuid);
  str(out, "StartingPosition", std::string(to_string(m.start)));
  if (m.start == starting_position::at_timestamp) {
    field(out, "StartingPositionTimestamp");
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.3f",
                  static_cast<double>(m.start_timestamp_ms) / 1000.0);
    out += buf;
  }
  num(out, "BatchSize", m.batch_size);
  // Unset means Kafka's 500 ms default, which whole seconds cannot say.
  if (m.window_set)
    num(out, "MaximumBatchingWindowInSeconds", m.window_ms / 1000);
  if (!m.event_source_arn.empty())
    str(out, "EventSourceArn", m.event_source_arn);
  str(out, "FunctionArn", function_arn(m.function_name, ctx));
  num(out, "LastModified", rt.last_modified);
  str(out, "LastProcessingResult", rt.last_processing_result);
  str(out, "State", rt.state);
  str(out, "StateTransitionReason", rt.state_transition_reason);
  field(out, "Topics");
  out += '[';
  event_writer::append_json_string(out, m.topic);
  out += ']';
  const char* group_field = "AmazonManagedKafkaEventSourceConfig";
  if (m.event_source_arn.empty()) {
    field(out, "SelfManagedEventSource");
    out += "{\"Endpoints\":{\"KAFKA_BOOTSTRAP_SERVERS\":[";
    for (size_t i = 0; i < m.bootstrap_servers.size(); ++i) {
      if (i > 0)
        out += ',';
      event_writer::append_json_string(out, m.bootstrap_servers[i]);
    }
    out += "]}}";
    group_field = "SelfManagedKafkaEventSourceConfig";
  }
  field(out, group_field);
  out += "{\"ConsumerGroupId\":";
  event_writer::append_json_string(out, m.consumer_group_id);
  if (m.schema_registry.enabled()) {
    out += ",\"SchemaRegistryConfig\":";
    out += m.schema_registry.echo;
  }
  out += '}';
  str(out, "EventSourceMappingArn", mapping_arn(m.uuid, ctx));
  num(out, "MaximumRetryAttempts", m.max_retry_attempts);
  num(out, "MaximumRecordAgeInSeconds", m.max_record_age_s);
  field(out, "BisectBatchOnFunctionError");
  out += m.bisect_on_error ? "true" : "false";
  // Stored as given (validated, minified); Tags are ListTags' business.
  for (auto& [name, json] : m.echoed) {
    if (name == "Tags")
      continue;
    field(out, name.c_str());
    out += json;
  }
  out += '}';
  return out;
}

} // namespace kesm::codecs
