#include "codecs/mapping_config.hpp"

#include "codecs/filter.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <random>
#include <regex>
#include <set>

#include <simdjson.h>

namespace kesm::codecs {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

error invalid(std::string msg) {
  return error{errc::invalid_parameter, std::move(msg)};
}

/// Lambda's model-validation wording, e.g. for BatchSize 0:
/// "1 validation error detected: Value '0' at 'batchSize' failed to satisfy
/// constraint: Member must have value greater than or equal to 1".
error constraint(std::string_view value, std::string_view field,
                 std::string_view rule) {
  std::string name(field);
  name[0] = static_cast<char>(std::tolower(name[0]));
  return invalid("1 validation error detected: Value '" + std::string(value)
                 + "' at '" + name + "' failed to satisfy constraint: Member "
                 + std::string(rule));
}

/// Fields of CreateEventSourceMappingRequest that apply to Kafka.
const std::set<std::string_view> handled_fields = {
  "FunctionName", "Topics", "EventSourceArn", "SelfManagedEventSource",
  "StartingPosition", "StartingPositionTimestamp", "BatchSize",
  "MaximumBatchingWindowInSeconds", "Enabled",
  "AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig",
  "FilterCriteria", "DestinationConfig", "MaximumRecordAgeInSeconds",
  "BisectBatchOnFunctionError", "MaximumRetryAttempts", "Tags",
  "SourceAccessConfigurations", "FunctionResponseTypes", "KMSKeyArn",
  "MetricsConfig", "LoggingConfig", "ProvisionedPollerConfig",
};

/// Fields Lambda rejects for Kafka event sources.
const std::set<std::string_view> non_kafka_fields = {
  "ParallelizationFactor", "Queues", "TumblingWindowInSeconds",
  "ScalingConfig", "DocumentDBEventSourceConfig",
};

expected<int64_t> read_int(element e, std::string_view field, int64_t lo,
                           int64_t hi) {
  int64_t v = 0;
  if (e.get_int64().get(v)) {
    std::string text = simdjson::minify(e);
    return constraint(text, field, "must be an integer");
  }
  if (v < lo)
    return constraint(std::to_string(v), field,
                      "must have value greater than or equal to "
                        + std::to_string(lo));
  if (v > hi)
    return constraint(std::to_string(v), field,
                      "must have value less than or equal to "
                        + std::to_string(hi));
  return v;
}

expected<std::string> read_string(element e, std::string_view field,
                                  size_t min_len, size_t max_len,
                                  const char* pattern) {
  std::string_view s;
  if (e.get_string().get(s))
    return invalid(std::string(field) + " must be a string");
  std::string v(s);
  if (v.size() < min_len)
    return constraint(v, field,
                      "must have length greater than or equal to "
                        + std::to_string(min_len));
  if (v.size() > max_len)
    return constraint(v, field,
                      "must have length less than or equal to "
                        + std::to_string(max_len));
  if (pattern != nullptr && !std::regex_match(v, std::regex(pattern)))
    return constraint(v, field,
                      std::string("must satisfy regular expression pattern: ")
                        + pattern);
  return v;
}

constexpr const char* function_name_pattern
  = "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-"
    "\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_"
    "]+))?";
// Kafka's legal topic names. Lambda's model says "[^.]([a-zA-Z0-9\-_.]+)",
// which refuses one-character names Kafka allows; kesm accepts them.
constexpr const char* topic_pattern = "[a-zA-Z0-9._-]+";
constexpr const char* arn_pattern
  = "arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?"
    ":(\\d{12})?:(.*)";
constexpr const char* uri_pattern = "[a-zA-Z0-9-\\/*:_+=.@-]*";
constexpr const char* endpoint_pattern
  = "(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\\-]*[a-zA-Z0-9])\\.)*([A-Za-z0-9]|["
    "A-Za-z0-9][A-Za-z0-9\\-]*[A-Za-z0-9]):[0-9]{1,5}";

/// `SchemaRegistryConfig` (esm-spec.md section 6).
error read_schema_registry(element e, std::string_view parent,
                           schema_registry_config& out) {
  std::string where = std::string(parent) + ".SchemaRegistryConfig";
  object cfg;
  if (e.get_object().get(cfg))
    return invalid(where + " must be an object");
  bool has_format = false;
  for (auto [key, val] : cfg) {
    if (key == "SchemaRegistryURI") {
      auto uri = read_string(val, "SchemaRegistryURI", 1, 10000, nullptr);
      if (!uri)
        return uri.err();
      out.uri = *uri;
    } else if (key == "EventRecordFormat") {
      std::string_view f;
      if (val.get_string().get(f) || (f != "JSON" && f != "SOURCE"))
        return invalid(where + ".EventRecordFormat must be JSON or SOURCE");
      out.json_format = f == "JSON";
      has_format = true;
    } else if (key == "AccessConfigs") {
      simdjson::dom::array list;
      if (val.get_array().get(list) || list.size() > 2)
        return invalid(where + ".AccessConfigs must be a list of at most 2"
                               " {Type, URI} objects");
      for (auto item : list) {
        std::string_view type, arn;
        if (item["Type"].get_string().get(type)
            || item["URI"].get_string().get(arn) || arn.empty())
          return invalid(where + ".AccessConfigs: every entry needs Type and"
                                 " URI (a secret ARN)");
        std::string* slot = type == "BASIC_AUTH" ? &out.basic_auth
                            : type == "CLIENT_CERTIFICATE_TLS_AUTH"
                              ? &out.client_certificate
                            : type == "SERVER_ROOT_CA_CERTIFICATE" ? &out.root_ca
                                                                  : nullptr;
        if (slot == nullptr)
          return invalid(where + ".AccessConfigs: Type " + std::string(type).substr(0, 50)
                         + " is not one of BASIC_AUTH, CLIENT_CERTIFICATE_TLS_AUTH,"
                           " SERVER_ROOT_CA_CERTIFICATE");
        if (!slot->empty())
          return invalid(where + ".AccessConfigs names " + std::string(type)
                         + " twice");
        *slot = std::string(arn);
      }
    } else if (key == "SchemaValidationConfigs") {
      simdjson::dom::array list;
      if (val.get_array().get(list))
        return invalid(where + ".SchemaValidationConfigs must be a list");
      for (auto item : list) {
        std::string_view attr;
        if (item["Attribute"].get_string().get(attr)
            || (attr != "KEY" && attr != "VALUE"))
          return invalid(where + ".SchemaValidationConfigs: Attribute must"
                                 " be KEY or VALUE");
        bool& slot = attr == "KEY" ? out.key : out.value;
        if (slot)
          return invalid(where + ".SchemaValidationConfigs names "
                         + std::string(attr) + " twice");
        slot = true;
      }
    } else {
      return invalid("Unknown field " + where + "." + std::string(key));
    }
  }
  if (out.uri.empty())
    return invalid(where + ".SchemaRegistryURI is required: a Confluent-"
                           "compatible registry URL or a Glue registry ARN");
  bool url = out.uri.rfind("https://", 0) == 0 || out.uri.rfind("http://", 0) == 0;
  bool glue = out.uri.rfind("arn:aws", 0) == 0
              && out.uri.find(":glue:") != std::string::npos
              && out.uri.find(":registry/") != std::string::npos;
  if (!url && !glue)
    return invalid(where + ".SchemaRegistryURI " + out.uri.substr(0, 200)
                   + " is neither a registry URL (https://HOST[:PORT]) nor a"
                     " Glue registry ARN (arn:aws:glue:REGION:ACCOUNT:registry/NAME)");
  if (glue && !(out.basic_auth.empty() && out.client_certificate.empty()
                && out.root_ca.empty()))
    return invalid(where + ".AccessConfigs: a Glue registry authenticates with"
                           " IAM (kesm's AWS credentials); remove AccessConfigs");
  if (!out.basic_auth.empty() && !out.client_certificate.empty())
    return invalid(where + ".AccessConfigs: choose BASIC_AUTH or"
                           " CLIENT_CERTIFICATE_TLS_AUTH, not both");
  if (!has_format)
    return invalid(where + ".EventRecordFormat is required: JSON (decoded)"
                           " or SOURCE (bytes as produced)");
  if (!out.key && !out.value)
    return invalid(where + ".SchemaValidationConfigs must name KEY, VALUE or"
                           " both: the attributes to validate and decode");
  out.echo = simdjson::minify(e);
  return {};
}

error read_group_id(object cfg, std::string_view field, mapping_config& out,
                    bool& ok) {
  ok = true;
  for (auto [key, val] : cfg) {
    if (key == "ConsumerGroupId") {
      auto id = read_string(val, "ConsumerGroupId", 1, 200, uri_pattern);
      if (!id) {
        ok = false;
        return id.err();
      }
      out.consumer_group_id = *id;
    } else if (key == "SchemaRegistryConfig") {
      if (auto err = read_schema_registry(val, field, out.schema_registry);
          !err.message.empty()) {
        ok = false;
        return err;
      }
    } else {
      ok = false;
      return invalid("Unknown field " + std::string(field) + "."
                     + std::string(key));
    }
  }
  return {};
}

error read_endpoints(element e, mapping_config& out, bool& ok) {
  ok = false;
  object src;
  if (e.get_object().get(src))
    return invalid("SelfManagedEventSource must be an object");
  object endpoints;
  if (src["Endpoints"].get_object().get(endpoints))
    return invalid("SelfManagedEventSource.Endpoints is required: give "
                   "{\"KAFKA_BOOTSTRAP_SERVERS\":[\"host:port\"]}");
  for (auto [key, val] : endpoints) {
    if (key != "KAFKA_BOOTSTRAP_SERVERS")
      return invalid("Unsupported endpoint type " + std::string(key)
                     + "; only KAFKA_BOOTSTRAP_SERVERS is valid");
    simdjson::dom::array list;
    if (val.get_array().get(list))
      return invalid("KAFKA_BOOTSTRAP_SERVERS must be a list of host:port");
    for (auto item : list) {
      auto s = read_string(item, "Endpoints", 1, 300, endpoint_pattern);
      if (!s)
        return s.err();
      if (auto port = std::stol(s->substr(s->rfind(':') + 1));
          port < 1 || port > 65535)
        return invalid("Bootstrap server " + *s
                       + " has no valid port; use host:port with a port from"
                         " 1 to 65535");
      out.bootstrap_servers.push_back(*s);
    }
    if (out.bootstrap_servers.empty() || out.bootstrap_servers.size() > 10)
      return invalid("KAFKA_BOOTSTRAP_SERVERS must list 1 to 10 servers");
  }
  if (out.bootstrap_servers.empty())
    return invalid("SelfManagedEventSource.Endpoints.KAFKA_BOOTSTRAP_SERVERS"
                   " is required");
  ok = true;
  return {};
}

/// Checks `val` is one of `allowed`.
error check_enum(element val, std::string_view field,
                 std::initializer_list<std::string_view> allowed, bool& ok) {
  ok = false;
  std::string_view s;
  if (val.get_string().get(s))
    return invalid(std::string(field) + " must be a string");
  for (auto a : allowed)
    if (s == a) {
      ok = true;
      return {};
    }
  std::string set;
  for (auto a : allowed)
    set += (set.empty() ? "" : ", ") + std::string(a);
  return constraint(s, field, "must satisfy enum value set: [" + set + "]");
}

expected<object> sub_object(element val, std::string_view field,
                            std::initializer_list<std::string_view> keys) {
  object o;
  if (val.get_object().get(o))
    return invalid(std::string(field) + " must be an object");
  for (auto [k, v] : o) {
    bool known = false;
    for (auto allowed : keys)
      known = known || k == allowed;
    if (!known)
      return invalid("Unknown field " + std::string(field) + "."
                     + std::string(k));
  }
  return o;
}

expected<simdjson::dom::array> sub_list(element val, std::string_view field,
                                        size_t max) {
  simdjson::dom::array a;
  if (val.get_array().get(a))
    return invalid(std::string(field) + " must be a list");
  if (a.size() > max)
    return constraint(std::to_string(a.size()) + " items", field,
                      "must have length less than or equal to "
                        + std::to_string(max));
  return a;
}

#define KESM_TRY(var, expr)                                                   \
  auto var = (expr);                                                          \
  if (!var)                                                                   \
    return var.err();

error read_filters(element val, mapping_config& out) {
  KESM_TRY(obj, sub_object(val, "FilterCriteria", {"Filters"}));
  element filters;
  if (obj->at_key("Filters").get(filters))
    return {};
  KESM_TRY(list, sub_list(filters, "FilterCriteria.Filters", 5));
  size_t i = 0;
  for (auto f : *list) {
    auto where = "FilterCriteria.Filters[" + std::to_string(i++) + "]";
    KESM_TRY(fo, sub_object(f, where, {"Pattern"}));
    element pv;
    if (fo->at_key("Pattern").get(pv))
      return invalid("Invalid filter pattern definition: " + where
                     + ".Pattern is required");
    KESM_TRY(pattern, read_string(pv, "Pattern", 0, 4096, nullptr));
    out.filter_patterns.push_back(*pattern);
  }
  // Compiled at the end of parse_mapping (whether `key` may be filtered
  // depends on SchemaRegistryConfig) to be refused at create and update;
  // each reader compiles its own copy.
  return {};
}

error read_destination(element val, mapping_config& out) {
  KESM_TRY(obj, sub_object(val, "DestinationConfig", {"OnFailure", "OnSuccess"}));
  element on;
  if (!obj->at_key("OnSuccess").get(on))
    return invalid("DestinationConfig.OnSuccess is not supported for Kafka"
                   " event sources; use OnFailure");
  if (obj->at_key("OnFailure").get(on))
    return {};
  KESM_TRY(of, sub_object(on, "DestinationConfig.OnFailure", {"Destination"}));
  element dv;
  if (of->at_key("Destination").get(dv))
    return {};
  KESM_TRY(dest, read_string(dv, "Destination", 0, 350, nullptr));
  if (dest->empty())
    return {};
  if (dest->rfind("kafka://", 0) != 0)
    return invalid("Unsupported on-failure destination " + *dest
                   + ": kesm writes failed records to Kafka only; use"
                     " kafka://<topic>");
  auto topic = dest->substr(8);
  if (topic.empty() || topic.size() > 249 || topic == "." || topic == ".."
      || !std::regex_match(topic, std::regex(topic_pattern)))
    return invalid("Invalid on-failure destination " + *dest
                   + ": kafka://<topic> needs a legal Kafka topic name");
  out.failure_topic = topic;
  return {};
}

error read_tags(element val) {
  object o;
  if (val.get_object().get(o))
    return invalid("Tags must be an object of string keys and values");
  if (o.size() > 50)
    return invalid("Tags: at most 50 tags per event source mapping");
  for (auto [k, v] : o) {
    if (k.empty() || k.size() > 128)
      return invalid("Tag key '" + std::string(k)
                     + "' must be 1 to 128 characters");
    std::string_view s;
    if (v.get_string().get(s) || s.size() > 256)
      return invalid("Tag '" + std::string(k)
                     + "' must have a string value of at most 256"
                       " characters");
  }
  return {};
}

error read_access(element val) {
  KESM_TRY(list, sub_list(val, "SourceAccessConfigurations", 22));
  for (auto item : *list) {
    KESM_TRY(o, sub_object(item, "SourceAccessConfigurations", {"Type", "URI"}));
    bool ok = false;
    element t, u;
    if (o->at_key("Type").get(t))
      return invalid("SourceAccessConfigurations: each item needs a Type");
    if (auto err = check_enum(t, "Type",
                              {"BASIC_AUTH", "VPC_SUBNET", "VPC_SECURITY_GROUP",
                               "SASL_SCRAM_512_AUTH", "SASL_SCRAM_256_AUTH",
                               "VIRTUAL_HOST", "CLIENT_CERTIFICATE_TLS_AUTH",
                               "SERVER_ROOT_CA_CERTIFICATE"},
                              ok);
        !ok)
      return err;
    if (o->at_key("URI").get(u))
      return invalid("SourceAccessConfigurations: each item needs a URI");
    KESM_TRY(uri, read_string(u, "URI", 1, 200, uri_pattern));
  }
  return {};
}

error read_response_types(element val, mapping_config& out) {
  KESM_TRY(list, sub_list(val, "FunctionResponseTypes", 1));
  for (auto item : *list) {
    bool ok = false;
    if (auto err = check_enum(item, "FunctionResponseTypes",
                              {"ReportBatchItemFailures"}, ok);
        !ok)
      return err;
    out.report_item_failures = true;
  }
  return {};
}

error read_metrics(element val) {
  KESM_TRY(o, sub_object(val, "MetricsConfig", {"Metrics"}));
  element m;
  if (o->at_key("Metrics").get(m))
    return {};
  KESM_TRY(list, sub_list(m, "MetricsConfig.Metrics", 3));
  for (auto item : *list) {
    bool ok = false;
    if (auto err = check_enum(item, "Metrics",
                              {"EventCount", "ErrorCount", "KafkaMetrics"}, ok);
        !ok)
      return err;
  }
  return {};
}

error read_logging(element val) {
  KESM_TRY(o, sub_object(val, "LoggingConfig", {"SystemLogLevel"}));
  element l;
  bool ok = true;
  if (!o->at_key("SystemLogLevel").get(l))
    if (auto err = check_enum(l, "SystemLogLevel", {"DEBUG", "INFO", "WARN"},
                              ok);
        !ok)
      return err;
  return {};
}

error read_pollers(element val, mapping_config& out) {
  KESM_TRY(o, sub_object(val, "ProvisionedPollerConfig",
                         {"MinimumPollers", "MaximumPollers",
                          "PollerGroupName"}));
  int64_t lo = 1, hi = 200;
  element e;
  bool any = false;
  if (!o->at_key("MinimumPollers").get(e)) {
    KESM_TRY(v, read_int(e, "MinimumPollers", 1, 200));
    lo = *v;
    any = true;
  }
  if (!o->at_key("MaximumPollers").get(e)) {
    KESM_TRY(v, read_int(e, "MaximumPollers", 1, 2000));
    hi = *v;
    any = true;
  }
  out.provisioned = any;
  out.min_pollers = any ? static_cast<int32_t>(lo) : 1;
  out.max_pollers = any ? static_cast<int32_t>(hi) : 0;
  if (lo > hi)
    return invalid("ProvisionedPollerConfig: MinimumPollers ("
                   + std::to_string(lo) + ") must not exceed MaximumPollers ("
                   + std::to_string(hi) + ")");
  if (!o->at_key("PollerGroupName").get(e)) {
    KESM_TRY(name, read_string(e, "PollerGroupName", 0, 128, "[a-zA-Z0-9-_]*"));
    out.poller_group = *name;
    // A group is a provisioned-mode feature: a config naming one is
    // provisioned with the default bounds.
    if (!name->empty() && !out.provisioned) {
      out.provisioned = true;
      out.min_pollers = 1;
      out.max_pollers = 200;
    }
  }
  return {};
}

/// Reads one of the fields stored and returned as given.
error read_echoed(std::string_view key, element val, mapping_config& out) {
  error err;
  if (key == "FilterCriteria")
    err = read_filters(val, out);
  else if (key == "DestinationConfig")
    err = read_destination(val, out);
  else if (key == "Tags")
    err = read_tags(val);
  else if (key == "SourceAccessConfigurations")
    err = read_access(val);
  else if (key == "FunctionResponseTypes")
    err = read_response_types(val, out);
  else if (key == "MetricsConfig")
    err = read_metrics(val);
  else if (key == "LoggingConfig")
    err = read_logging(val);
  else if (key == "ProvisionedPollerConfig")
    err = read_pollers(val, out);
  else if (key == "KMSKeyArn") {
    auto s = read_string(val, key, 0, 10000,
                         "(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()");
    if (!s)
      return s.err();
  }
  if (!err.message.empty())
    return err;
  out.echoed[std::string(key)] = simdjson::minify(val);
  return {};
}

#undef KESM_TRY

} // namespace

std::string mapping_config::bootstrap_string() const {
  std::string s;
  for (const auto& b : bootstrap_servers) {
    if (!s.empty())
      s += ',';
    s += b;
  }
  return s;
}

std::string_view to_string(starting_position p) {
  switch (p) {
    case starting_position::trim_horizon:
      return "TRIM_HORIZON";
    case starting_position::latest:
      return "LATEST";
    default:
      return "AT_TIMESTAMP";
  }
}

namespace {

/// Canonical text of a UUID from 128 bits, with its version and the RFC
/// 4122 variant set.
std::string format_uuid(uint64_t a, uint64_t b, uint64_t version) {
  a = (a & 0xFFFFFFFFFFFF0FFFull) | (version << 12);
  b = (b & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;
  char buf[37];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF),
                static_cast<unsigned>(a & 0xFFFF),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFull));
  return buf;
}

} // namespace

std::string make_uuid() {
  static thread_local std::mt19937_64 gen{std::random_device{}()};
  uint64_t a = gen(), b = gen();
  return format_uuid(a, b, 4);
}

std::string name_uuid(const std::string& name) {
  auto fnv = [&](uint64_t h) {
    for (unsigned char c : name) {
      h ^= c;
      h *= 0x100000001b3ull;
    }
    return h;
  };
  return format_uuid(fnv(0xcbf29ce484222325ull), fnv(0x84222325cbf29ce4ull),
                     5);
}

expected<mapping_config> parse_mapping(std::string_view json,
                                       const cluster_map& clusters,
                                       std::string uuid, int64_t now_ms) {
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(json.data(), json.size()).get(root))
    return invalid("Could not parse request body into json: the mapping is"
                   " not valid JSON");
  object obj;
  if (root.get_object().get(obj))
    return invalid("The mapping must be a JSON object");
  mapping_config cfg;
  cfg.uuid = uuid.empty() ? make_uuid() : std::move(uuid);
  bool has_position = false, has_timestamp = false, has_arn = false,
       has_self = false;
  double timestamp_s = 0;
  for (auto [key, val] : obj) {
    bool ok = true;
    if (non_kafka_fields.count(key))
      return invalid(std::string(key)
                     + " is not supported for Kafka event sources");
    if (!handled_fields.count(key))
      return invalid("Unknown field " + std::string(key)
                     + " in CreateEventSourceMapping request");
    if (key == "FunctionName") {
      auto s = read_string(val, key, 1, 140, function_name_pattern);
      if (!s)
        return s.err();
      cfg.function_name = *s;
    } else if (key == "Topics") {
      simdjson::dom::array list;
      if (val.get_array().get(list))
        return invalid("Topics must be a list with exactly one topic");
      if (list.size() != 1)
        return constraint(std::to_string(list.size()) + " topics", key,
                          "must have exactly one topic");
      auto s = read_string(list.at(0), "Topics", 1, 249, topic_pattern);
      if (!s)
        return s.err();
      if (*s == "." || *s == "..")
        return constraint(*s, key, "must be a legal Kafka topic name");
      cfg.topic = *s;
    } else if (key == "EventSourceArn") {
      auto s = read_string(val, key, 1, 1024, arn_pattern);
      if (!s)
        return s.err();
      cfg.event_source_arn = *s;
      has_arn = true;
    } else if (key == "SelfManagedEventSource") {
      if (auto err = read_endpoints(val, cfg, ok); !ok)
        return err;
      has_self = true;
    } else if (key == "StartingPosition") {
      std::string_view s;
      if (val.get_string().get(s))
        return invalid("StartingPosition must be a string");
      if (s == "TRIM_HORIZON")
        cfg.start = starting_position::trim_horizon;
      else if (s == "LATEST")
        cfg.start = starting_position::latest;
      else if (s == "AT_TIMESTAMP")
        cfg.start = starting_position::at_timestamp;
      else
        return constraint(s, key,
                          "must satisfy enum value set: [TRIM_HORIZON, "
                          "LATEST, AT_TIMESTAMP]");
      has_position = true;
    } else if (key == "StartingPositionTimestamp") {
      if (val.get_double().get(timestamp_s) || !std::isfinite(timestamp_s)
          || timestamp_s < 0)
        return invalid("StartingPositionTimestamp must be epoch seconds"
                       " (a non-negative number)");
      has_timestamp = true;
    } else if (key == "BatchSize") {
      auto v = read_int(val, key, 1, 10000);
      if (!v)
        return v.err();
      cfg.batch_size = static_cast<int32_t>(*v);
    } else if (key == "MaximumBatchingWindowInSeconds") {
      auto v = read_int(val, key, 0, 300);
      if (!v)
        return v.err();
      cfg.window_ms = static_cast<int32_t>(*v * 1000);
      cfg.window_set = true;
    } else if (key == "Enabled") {
      if (val.get_bool().get(cfg.enabled))
        return invalid("Enabled must be true or false");
    } else if (key == "BisectBatchOnFunctionError") {
      if (val.get_bool().get(cfg.bisect_on_error))
        return invalid("BisectBatchOnFunctionError must be true or false");
    } else if (key == "MaximumRetryAttempts") {
      auto v = read_int(val, key, -1, 10000);
      if (!v)
        return v.err();
      cfg.max_retry_attempts = static_cast<int32_t>(*v);
    } else if (key == "MaximumRecordAgeInSeconds") {
      auto v = read_int(val, key, -1, 604800);
      if (!v)
        return v.err();
      if (*v >= 0 && *v < 60)
        return invalid("MaximumRecordAgeInSeconds must be -1 (no limit) or"
                       " between 60 and 604800; got " + std::to_string(*v));
      cfg.max_record_age_s = static_cast<int32_t>(*v);
    } else if (key != "AmazonManagedKafkaEventSourceConfig"
               && key != "SelfManagedKafkaEventSourceConfig") {
      if (auto err = read_echoed(key, val, cfg); !err.message.empty())
        return err;
    } else {
      object sub;
      if (val.get_object().get(sub))
        return invalid(std::string(key) + " must be an object");
      if (auto err = read_group_id(sub, key, cfg, ok); !ok)
        return err;
    }
  }
  if (auto compiled = record_filter::compile(cfg.filter_patterns,
                                             cfg.schema_registry.enabled());
      !compiled)
    return compiled.err();
  if (cfg.function_name.empty())
    return invalid("1 validation error detected: Value null at "
                   "'functionName' failed to satisfy constraint: Member must"
                   " not be null");
  if (has_arn && cfg.event_source_arn.rfind("arn:aws:kafka:", 0) != 0)
    return invalid("Only Kafka event sources are supported by kesm;"
                   " EventSourceArn " + cfg.event_source_arn.substr(0, 100)
                   + " is not an MSK cluster ARN (arn:aws:kafka:...). Use an"
                     " MSK ARN or SelfManagedEventSource");
  if (has_arn == has_self)
    return invalid("Specify exactly one event source: EventSourceArn (MSK)"
                   " or SelfManagedEventSource (self-managed Kafka)");
  if (cfg.topic.empty())
    return invalid("Topics is required for Kafka event sources: give"
                   " exactly one topic");
  if (!has_position)
    return invalid("StartingPosition is required for Kafka event sources:"
                   " TRIM_HORIZON, LATEST or AT_TIMESTAMP");
  if (cfg.start == starting_position::at_timestamp) {
    if (!has_timestamp)
      return invalid("StartingPositionTimestamp is required when"
                     " StartingPosition is AT_TIMESTAMP");
    cfg.start_timestamp_ms = static_cast<int64_t>(timestamp_s * 1000);
    if (cfg.start_timestamp_ms > now_ms)
      return invalid("StartingPositionTimestamp cannot be in the future");
  } else if (has_timestamp) {
    return invalid("StartingPositionTimestamp is only valid with"
                   " StartingPosition AT_TIMESTAMP");
  }
  if (has_arn) {
    if (cfg.event_source_arn.rfind("arn:aws:kafka:", 0) != 0)
      return invalid("EventSourceArn must be an MSK cluster ARN"
                     " (arn:aws:kafka:...) for a Kafka mapping");
    auto it = clusters.find(cfg.event_source_arn);
    if (it == clusters.end() || it->second.empty())
      return error{errc::not_found,
                   "Cluster " + cfg.event_source_arn + " is not declared;"
                   " add its bootstrap servers under \"clusters\" in the"
                   " config file"};
    cfg.bootstrap_servers = it->second;
  }
  if (!cfg.failure_topic.empty() && cfg.failure_topic == cfg.topic)
    return invalid("The on-failure destination kafka://" + cfg.failure_topic
                   + " is the source topic; choose another topic");
  if (cfg.consumer_group_id.empty())
    cfg.consumer_group_id = cfg.uuid;
  return cfg;
}

} // namespace kesm::codecs
