// Table-driven validation of CreateEventSourceMapping and
// UpdateEventSourceMapping documents: each row is one field value and what
// kesm must answer (accepted, or refused with a message naming the rule).
#include <gtest/gtest.h>

#include "codecs/mapping_config.hpp"
#include "codecs/mapping_update.hpp"

using namespace kesm::codecs;

namespace {

constexpr int64_t now = 1'800'000'000'000;

const cluster_map clusters{
  {"arn:aws:kafka:us-east-1:111122223333:cluster/c/1", {"127.0.0.1:9092"}}};

/// A valid self-managed document with `field` set to `value` (replacing
/// the default of that field, or added).
std::string with(const std::string& field, const std::string& value) {
  std::map<std::string, std::string> f{
    {"FunctionName", "\"fn\""},
    {"Topics", "[\"orders\"]"},
    {"StartingPosition", "\"LATEST\""},
    {"SelfManagedEventSource",
     "{\"Endpoints\":{\"KAFKA_BOOTSTRAP_SERVERS\":[\"h:9092\"]}}"},
  };
  if (value.empty())
    f.erase(field);
  else
    f[field] = value;
  std::string doc = "{";
  for (auto& [k, v] : f)
    doc += (doc.size() > 1 ? "," : "") + ("\"" + k + "\":" + v);
  return doc + "}";
}

const std::string long_name = "\"" + std::string(141, 'f') + "\"";
const std::string long_group
  = "{\"ConsumerGroupId\":\"" + std::string(201, 'g') + "\"}";

struct row {
  const char* field;
  const char* value; // "" removes the field
  const char* error; // nullptr: accepted
};

const row create_rows[] = {
  // FunctionName: 1..140, Lambda's name/ARN pattern.
  {"FunctionName", "\"fn\"", nullptr},
  {"FunctionName", "\"my-fn_2:prod\"", nullptr},
  {"FunctionName", "\"arn:aws:lambda:us-east-1:123456789012:function:f\"",
   nullptr},
  {"FunctionName", "\"\"", "length greater than or equal to 1"},
  {"FunctionName", long_name.c_str(), "length less than or equal to 140"},
  {"FunctionName", "\"bad name\"", "regular expression pattern"},
  {"FunctionName", "7", "FunctionName must be a string"},
  {"FunctionName", "", "'functionName'"},
  // Topics: exactly one, Kafka's topic names.
  {"Topics", "[\"a\"]", nullptr},
  {"Topics", "[\"a.b-c_d\"]", nullptr},
  {"Topics", "[]", "exactly one topic"},
  {"Topics", "[\"a\",\"b\"]", "exactly one topic"},
  {"Topics", "[\"bad topic\"]", "regular expression pattern"},
  {"Topics", "[\"..\"]", "legal Kafka topic name"},
  {"Topics", "\"orders\"", "Topics must be a list"},
  {"Topics", "", "Topics is required"},
  // StartingPosition: enum, required.
  {"StartingPosition", "\"TRIM_HORIZON\"", nullptr},
  {"StartingPosition", "\"LATEST\"", nullptr},
  {"StartingPosition", "\"SOMETIME\"", "enum value set"},
  {"StartingPosition", "1", "StartingPosition must be a string"},
  {"StartingPosition", "", "StartingPosition is required"},
  // BatchSize: 1..10000.
  {"BatchSize", "1", nullptr},
  {"BatchSize", "10000", nullptr},
  {"BatchSize", "0", "greater than or equal to 1"},
  {"BatchSize", "10001", "less than or equal to 10000"},
  {"BatchSize", "-5", "greater than or equal to 1"},
  {"BatchSize", "1.5", "must be an integer"},
  {"BatchSize", "\"10\"", "must be an integer"},
  // MaximumBatchingWindowInSeconds: 0..300.
  {"MaximumBatchingWindowInSeconds", "0", nullptr},
  {"MaximumBatchingWindowInSeconds", "300", nullptr},
  {"MaximumBatchingWindowInSeconds", "301", "less than or equal to 300"},
  {"MaximumBatchingWindowInSeconds", "-1", "greater than or equal to 0"},
  // Enabled: boolean.
  {"Enabled", "true", nullptr},
  {"Enabled", "false", nullptr},
  {"Enabled", "\"yes\"", "Enabled must be true or false"},
  // Consumer group id: 1..200, URI pattern.
  {"SelfManagedKafkaEventSourceConfig", "{\"ConsumerGroupId\":\"g-1/x:y\"}",
   nullptr},
  {"SelfManagedKafkaEventSourceConfig", "{\"ConsumerGroupId\":\"\"}",
   "length greater than or equal to 1"},
  {"SelfManagedKafkaEventSourceConfig", long_group.c_str(),
   "length less than or equal to 200"},
  {"SelfManagedKafkaEventSourceConfig", "{\"ConsumerGroupId\":\"a b\"}",
   "regular expression pattern"},
  {"SelfManagedKafkaEventSourceConfig", "{\"Other\":1}", "Unknown field"},
  {"SelfManagedKafkaEventSourceConfig", "[]", "must be an object"},
  // Endpoints: 1..10 host:port.
  {"SelfManagedEventSource",
   "{\"Endpoints\":{\"KAFKA_BOOTSTRAP_SERVERS\":[\"a:1\",\"b.c:65535\"]}}",
   nullptr},
  {"SelfManagedEventSource",
   "{\"Endpoints\":{\"KAFKA_BOOTSTRAP_SERVERS\":[]}}", "1 to 10 servers"},
  {"SelfManagedEventSource",
   "{\"Endpoints\":{\"KAFKA_BOOTSTRAP_SERVERS\":[\"nohost\"]}}",
   "regular expression pattern"},
  {"SelfManagedEventSource", "{\"Endpoints\":{\"OTHER\":[\"a:1\"]}}",
   "only KAFKA_BOOTSTRAP_SERVERS"},
  {"SelfManagedEventSource", "{}", "Endpoints is required"},
  // Fields Lambda refuses for Kafka.
  {"ParallelizationFactor", "2", "not supported for Kafka"},
  {"Queues", "[\"q\"]", "not supported for Kafka"},
  {"TumblingWindowInSeconds", "10", "not supported for Kafka"},
  {"ScalingConfig", "{}", "not supported for Kafka"},
  {"DocumentDBEventSourceConfig", "{}", "not supported for Kafka"},
  // MaximumRetryAttempts: -1..10000.
  {"MaximumRetryAttempts", "-1", nullptr},
  {"MaximumRetryAttempts", "0", nullptr},
  {"MaximumRetryAttempts", "10000", nullptr},
  {"MaximumRetryAttempts", "-2", "greater than or equal to -1"},
  {"MaximumRetryAttempts", "10001", "less than or equal to 10000"},
  {"MaximumRetryAttempts", "\"3\"", "must be an integer"},
  // MaximumRecordAgeInSeconds: -1 or 60..604800.
  {"MaximumRecordAgeInSeconds", "-1", nullptr},
  {"MaximumRecordAgeInSeconds", "60", nullptr},
  {"MaximumRecordAgeInSeconds", "604800", nullptr},
  {"MaximumRecordAgeInSeconds", "59", "-1 (no limit) or between 60"},
  {"MaximumRecordAgeInSeconds", "0", "-1 (no limit) or between 60"},
  {"MaximumRecordAgeInSeconds", "604801", "less than or equal to 604800"},
  {"MaximumRecordAgeInSeconds", "-2", "greater than or equal to -1"},
  // BisectBatchOnFunctionError: boolean.
  {"BisectBatchOnFunctionError", "true", nullptr},
  {"BisectBatchOnFunctionError", "1", "must be true or false"},
  // FunctionResponseTypes: at most one, enum.
  {"FunctionResponseTypes", "[\"ReportBatchItemFailures\"]", nullptr},
  {"FunctionResponseTypes", "[]", nullptr},
  {"FunctionResponseTypes", "[\"Other\"]", "enum value set"},
  {"FunctionResponseTypes",
   "[\"ReportBatchItemFailures\",\"ReportBatchItemFailures\"]",
   "length less than or equal to 1"},
  {"FunctionResponseTypes", "\"ReportBatchItemFailures\"", "must be a list"},
  // DestinationConfig: OnFailure to kafka://<topic> only.
  {"DestinationConfig", "{\"OnFailure\":{\"Destination\":\"kafka://dlq\"}}",
   nullptr},
  {"DestinationConfig", "{}", nullptr},
  {"DestinationConfig", "{\"OnFailure\":{\"Destination\":\"\"}}", nullptr},
  {"DestinationConfig", "{\"OnFailure\":{\"Destination\":\"kafka://orders\"}}",
   "is the source topic"},
  {"DestinationConfig", "{\"OnFailure\":{\"Destination\":\"kafka://\"}}",
   "legal Kafka topic name"},
  {"DestinationConfig", "{\"OnFailure\":{\"Destination\":\"kafka://a b\"}}",
   "legal Kafka topic name"},
  {"DestinationConfig",
   "{\"OnFailure\":{\"Destination\":\"arn:aws:sqs:us-east-1:123456789012:q\"}}",
   "use kafka://<topic>"},
  {"DestinationConfig", "{\"OnSuccess\":{\"Destination\":\"kafka://x\"}}",
   "OnSuccess is not supported"},
  {"DestinationConfig", "{\"OnFailure\":{\"Other\":1}}", "Unknown field"},
  {"DestinationConfig", "[]", "must be an object"},
  // FilterCriteria: at most 5 filters, patterns up to 4096 characters.
  {"FilterCriteria", "{\"Filters\":[]}", nullptr},
  {"FilterCriteria", "{}", nullptr},
  {"FilterCriteria",
   "{\"Filters\":[{\"Pattern\":\"{\\\"value\\\":{\\\"a\\\":[1]}}\"}]}",
   nullptr},
  {"FilterCriteria",
   "{\"Filters\":[{\"Pattern\":\"{}\"},{\"Pattern\":\"{}\"},{\"Pattern\":"
   "\"{}\"},{\"Pattern\":\"{}\"},{\"Pattern\":\"{}\"},{\"Pattern\":\"{}\"}]}",
   "length less than or equal to 5"},
  {"FilterCriteria", "{\"Filters\":[{\"Pattern\":\"not json\"}]}",
   "Filters[0].Pattern: not valid JSON at character 0"},
  {"FilterCriteria", "{\"Filters\":[{}]}", "Pattern is required"},
  {"FilterCriteria", "{\"Filters\":[{\"Pattern\":7}]}",
   "Pattern must be a string"},
  {"FilterCriteria", "{\"Other\":[]}", "Unknown field"},
  // SourceAccessConfigurations: at most 22, Type enum, URI pattern.
  {"SourceAccessConfigurations",
   "[{\"Type\":\"BASIC_AUTH\",\"URI\":\"arn:aws:secretsmanager:us-east-1:1:"
   "secret:s\"}]",
   nullptr},
  {"SourceAccessConfigurations", "[]", nullptr},
  {"SourceAccessConfigurations", "[{\"Type\":\"PASSWORD\",\"URI\":\"x\"}]",
   "enum value set"},
  {"SourceAccessConfigurations", "[{\"Type\":\"BASIC_AUTH\",\"URI\":\"\"}]",
   "length greater than or equal to 1"},
  {"SourceAccessConfigurations", "[{\"URI\":\"x\"}]", "needs a Type"},
  {"SourceAccessConfigurations", "{}", "must be a list"},
  // KMSKeyArn, MetricsConfig, LoggingConfig.
  {"KMSKeyArn", "\"arn:aws:kms:us-east-1:123456789012:key/k\"", nullptr},
  {"KMSKeyArn", "\"not-an-arn\"", "regular expression pattern"},
  {"MetricsConfig", "{\"Metrics\":[\"EventCount\"]}", nullptr},
  {"MetricsConfig", "{\"Metrics\":[\"Other\"]}", "enum value set"},
  {"MetricsConfig",
   "{\"Metrics\":[\"EventCount\",\"ErrorCount\",\"KafkaMetrics\",\"EventCount"
   "\"]}",
   "length less than or equal to 3"},
  {"LoggingConfig", "{\"SystemLogLevel\":\"WARN\"}", nullptr},
  {"LoggingConfig", "{\"SystemLogLevel\":\"TRACE\"}", "enum value set"},
  // ProvisionedPollerConfig: 1..200 minimum, 1..2000 maximum, min <= max.
  {"ProvisionedPollerConfig", "{\"MinimumPollers\":1,\"MaximumPollers\":3}",
   nullptr},
  {"ProvisionedPollerConfig", "{\"MinimumPollers\":0}",
   "greater than or equal to 1"},
  {"ProvisionedPollerConfig", "{\"MinimumPollers\":201}",
   "less than or equal to 200"},
  {"ProvisionedPollerConfig", "{\"MaximumPollers\":2001}",
   "less than or equal to 2000"},
  {"ProvisionedPollerConfig", "{\"MinimumPollers\":5,\"MaximumPollers\":4}",
   "must not exceed MaximumPollers"},
  {"ProvisionedPollerConfig", "{\"PollerGroupName\":7}", "must be a string"},
  // Tags: string to string.
  {"Tags", "{\"team\":\"payments\"}", nullptr},
  {"Tags", "{\"team\":7}", "must have a string value"},
  {"Tags", "[]", "Tags must be an object"},
  {"Nonsense", "1", "Unknown field Nonsense"},
};

void PrintTo(const row& r, std::ostream* os) {
  *os << r.field << "=" << (*r.value ? r.value : "(absent)");
}

class create_validation : public ::testing::TestWithParam<row> {};

} // namespace

TEST_P(create_validation, answers_as_the_table_says) {
  auto r = GetParam();
  auto doc = with(r.field, r.value);
  auto m = parse_mapping(doc, clusters, "", now);
  if (r.error == nullptr) {
    EXPECT_TRUE(m) << doc << ": " << m.err().message;
  } else {
    ASSERT_FALSE(m) << doc;
    EXPECT_NE(m.err().message.find(r.error), std::string::npos)
      << doc << ": " << m.err().message;
  }
}

INSTANTIATE_TEST_SUITE_P(every_field, create_validation,
                         ::testing::ValuesIn(create_rows));

TEST(update_validation, applies_updatable_fields_and_refuses_the_rest) {
  const std::string stored = with("BatchSize", "10");
  struct urow {
    const char* body;
    const char* error; // of apply_update, or of parsing the merged doc
  } rows[] = {
    {"{\"BatchSize\":20}", nullptr},
    {"{\"BatchSize\":0}", "greater than or equal to 1"},
    {"{\"MaximumBatchingWindowInSeconds\":301}", "less than or equal to 300"},
    {"{\"Enabled\":false}", nullptr},
    {"{\"FunctionName\":\"other\"}", nullptr},
    {"{\"FunctionName\":\"bad name\"}", "regular expression pattern"},
    {"{\"UUID\":\"x\",\"BatchSize\":3}", nullptr},
    {"{\"Topics\":[\"x\"]}", "cannot be updated"},
    {"{\"StartingPosition\":\"LATEST\"}", "cannot be updated"},
    {"{\"StartingPositionTimestamp\":1}", "cannot be updated"},
    {"{\"SelfManagedEventSource\":{}}", "cannot be updated"},
    {"{\"EventSourceArn\":\"arn:aws:kafka:x\"}", "cannot be updated"},
    {"{\"Tags\":{}}", "cannot be updated"},
    {"{\"ParallelizationFactor\":2}", "not supported for Kafka"},
    {"{\"Queues\":[\"q\"]}", "cannot be updated"},
    {"{\"MaximumRetryAttempts\":2}", nullptr},
    {"{\"MaximumRetryAttempts\":-2}", "greater than or equal to -1"},
    {"{\"MaximumRecordAgeInSeconds\":30}", "between 60 and 604800"},
    {"{\"BisectBatchOnFunctionError\":true}", nullptr},
    {"{\"FunctionResponseTypes\":[\"ReportBatchItemFailures\"]}", nullptr},
    {"{\"DestinationConfig\":{\"OnFailure\":{\"Destination\":"
     "\"kafka://orders\"}}}",
     "is the source topic"},
    {"{\"FilterCriteria\":{\"Filters\":[{\"Pattern\":\"x\"}]}}",
     "not valid JSON"},
    {"{\"ProvisionedPollerConfig\":{\"MinimumPollers\":2}}", nullptr},
    {"{\"Nonsense\":1}", "not supported in an update"},
  };
  for (auto& r : rows) {
    auto merged = apply_update(stored, r.body);
    std::string err;
    if (!merged) {
      err = merged.err().message;
    } else {
      auto m = parse_mapping(*merged, clusters, "u", now);
      if (!m)
        err = m.err().message;
    }
    if (r.error == nullptr)
      EXPECT_TRUE(err.empty()) << r.body << ": " << err;
    else
      EXPECT_NE(err.find(r.error), std::string::npos)
        << r.body << ": " << (err.empty() ? "accepted" : err);
  }
}
