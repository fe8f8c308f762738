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
            "6d9bc8e2-1f37-4e5e-9a51-0c2c6b1b8f0e\"}");
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
