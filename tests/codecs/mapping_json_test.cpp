#include "codecs/mapping_json.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

using namespace kesm::codecs;

namespace {

mapping_config parse(const std::string& doc) {
  auto m = parse_mapping(doc,
                         {{"arn:aws:kafka:us-east-1:111122223333:cluster/c/1",
                           {"b1:9092", "b2:9092"}}},
                         "6d9bc8e2-1f37-4e5e-9a51-0c2c6b1b8f0e",
                         1'800'000'000'000);
  EXPECT_TRUE(m) << m.err().message;
  return *m;
}

} // namespace

TEST(mapping_json, writes_a_self_managed_configuration) {
  auto m = parse(R"({"FunctionName":"my-fn","Topics":["orders"],)"
                 R"("StartingPosition":"TRIM_HORIZON","BatchSize":50,)"
                 R"("SelfManagedEventSource":{"Endpoints":)"
                 R"({"KAFKA_BOOTSTRAP_SERVERS":["h1:9092","h2:9092"]}}})");
  mapping_runtime rt;
  rt.state = "Enabled";
  rt.last_processing_result = "OK";
  rt.last_modified = 1700000000;
  arn_context ctx{"eu-west-1", "123456789012"};
  auto json = to_configuration_json(m, rt, ctx);
  EXPECT_EQ(json,
            "{\"UUID\":\"6d9bc8e2-1f37-4e5e-9a51-0c2c6b1b8f0e\","
            "\"StartingPosition\":\"TRIM_HORIZON\",\"BatchSize\":50,"
            "\"FunctionArn\":\"arn:aws:lambda:eu-west-1:123456789012:function:"
            "my-fn\",\"LastModified\":1700000000,\"LastProcessingResult\":"
            "\"OK\",\"State\":\"Enabled\",\"StateTransitionReason\":"
            "\"USER_INITIATED\",\"Topics\":[\"orders\"],"
            "\"SelfManagedEventSource\":{\"Endpoints\":{"
            "\"KAFKA_BOOTSTRAP_SERVERS\":[\"h1:9092\",\"h2:9092\"]}},"
            "\"SelfManagedKafkaEventSourceConfig\":{\"ConsumerGroupId\":"
            "\"6d9bc8e2-1f37-4e5e-9a51-0c2c6b1b8f0e\"},"
            "\"EventSourceMappingArn\":\"arn:aws:lambda:eu-west-1:"
            "123456789012:event-source-mapping:"
            "6d9bc8e2-1f37-4e5e-9a51-0c2c6b1b8f0e\","
            "\"MaximumRetryAttempts\":-1,\"MaximumRecordAgeInSeconds\":-1,"
            "\"BisectBatchOnFunctionError\":false}");
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_FALSE(p.parse(json).get(doc));
  std::string_view arn = doc["EventSourceMappingArn"];
  EXPECT_GE(arn.size(), 85u); // the model's minimum length
  EXPECT_LE(arn.size(), 120u);
}

TEST(mapping_json, writes_an_msk_configuration_with_a_timestamp) {
  auto m = parse(R"({"FunctionName":"arn:aws:lambda:us-east-1:111122223333:)"
                 R"(function:f","Topics":["t1"],"StartingPosition":)"
                 R"("AT_TIMESTAMP","StartingPositionTimestamp":1700000000.25,)"
                 R"("MaximumBatchingWindowInSeconds":7,"EventSourceArn":)"
                 R"("arn:aws:kafka:us-east-1:111122223333:cluster/c/1",)"
                 R"("AmazonManagedKafkaEventSourceConfig":)"
                 R"({"ConsumerGroupId":"g"}})");
  auto json = to_configuration_json(m, mapping_runtime{}, arn_context{});
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_FALSE(p.parse(json).get(doc)) << json;
  EXPECT_EQ(std::string_view(doc["FunctionArn"]),
            "arn:aws:lambda:us-east-1:111122223333:function:f");
  EXPECT_EQ(std::string_view(doc["EventSourceArn"]),
            "arn:aws:kafka:us-east-1:111122223333:cluster/c/1");
  EXPECT_DOUBLE_EQ(double(doc["StartingPositionTimestamp"]), 1700000000.25);
  EXPECT_EQ(int64_t(doc["MaximumBatchingWindowInSeconds"]), 7);
  EXPECT_EQ(std::string_view(
              doc["AmazonManagedKafkaEventSourceConfig"]["ConsumerGroupId"]),
            "g");
  EXPECT_EQ(std::string_view(doc["State"]), "Creating");
  EXPECT_TRUE(doc["SelfManagedEventSource"].error());
}

TEST(mapping_json, returns_stored_fields_as_given) {
  auto m = parse(R"({"FunctionName":"f","Topics":["t"],)"
                 R"("StartingPosition":"LATEST","SelfManagedEventSource":)"
                 R"({"Endpoints":{"KAFKA_BOOTSTRAP_SERVERS":["h:1"]}},)"
                 R"("MaximumRetryAttempts":3,"MaximumRecordAgeInSeconds":60,)"
                 R"("BisectBatchOnFunctionError":true,)"
                 R"("FunctionResponseTypes":["ReportBatchItemFailures"],)"
                 R"("DestinationConfig":{"OnFailure":{"Destination":)"
                 R"("kafka://dlq"}},"FilterCriteria":{"Filters":[{"Pattern":)"
                 R"("{\"value\":{\"a\":[1]}}"}]},)"
                 R"("SourceAccessConfigurations":[{"Type":"BASIC_AUTH",)"
                 R"("URI":"arn:aws:secretsmanager:us-east-1:1:secret:s"}],)"
                 R"("KMSKeyArn":"arn:aws:kms:us-east-1:1:key/k",)"
                 R"("MetricsConfig":{"Metrics":["EventCount"]},)"
                 R"("LoggingConfig":{"SystemLogLevel":"WARN"},)"
                 R"("ProvisionedPollerConfig":{"MinimumPollers":2},)"
                 R"("Tags":{"team":"x"}})");
  EXPECT_EQ(m.retry_limit(), 3);
  EXPECT_TRUE(m.bisect_on_error);
  EXPECT_TRUE(m.report_item_failures);
  EXPECT_EQ(m.failure_topic, "dlq");
  ASSERT_EQ(m.filter_patterns.size(), 1u);
  EXPECT_EQ(m.filter_patterns[0], R"({"value":{"a":[1]}})");
  auto json = to_configuration_json(m, mapping_runtime{}, arn_context{});
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_FALSE(p.parse(json).get(doc)) << json;
  EXPECT_EQ(int64_t(doc["MaximumRetryAttempts"]), 3);
  EXPECT_EQ(int64_t(doc["MaximumRecordAgeInSeconds"]), 60);
  EXPECT_TRUE(bool(doc["BisectBatchOnFunctionError"]));
  EXPECT_EQ(std::string_view(doc["FunctionResponseTypes"].at(0)),
            "ReportBatchItemFailures");
  EXPECT_EQ(std::string_view(doc["DestinationConfig"]["OnFailure"]
                                ["Destination"]),
            "kafka://dlq");
  EXPECT_EQ(std::string_view(doc["FilterCriteria"]["Filters"].at(0)["Pattern"]),
            R"({"value":{"a":[1]}})");
  EXPECT_EQ(std::string_view(doc["SourceAccessConfigurations"].at(0)["Type"]),
            "BASIC_AUTH");
  EXPECT_EQ(std::string_view(doc["KMSKeyArn"]), "arn:aws:kms:us-east-1:1:key/k");
  EXPECT_EQ(std::string_view(doc["MetricsConfig"]["Metrics"].at(0)),
            "EventCount");
  EXPECT_EQ(std::string_view(doc["LoggingConfig"]["SystemLogLevel"]), "WARN");
  EXPECT_EQ(int64_t(doc["ProvisionedPollerConfig"]["MinimumPollers"]), 2);
  EXPECT_TRUE(doc["Tags"].error()); // Lambda returns tags from ListTags
}

TEST(mapping_json, destination_with_unlimited_retries_means_ten) {
  auto m = parse(R"({"FunctionName":"f","Topics":["t"],)"
                 R"("StartingPosition":"LATEST","SelfManagedEventSource":)"
                 R"({"Endpoints":{"KAFKA_BOOTSTRAP_SERVERS":["h:1"]}},)"
                 R"("DestinationConfig":{"OnFailure":{"Destination":)"
                 R"("kafka://dlq"}}})");
  EXPECT_EQ(m.max_retry_attempts, -1);
  EXPECT_EQ(m.retry_limit(), 10);
}
