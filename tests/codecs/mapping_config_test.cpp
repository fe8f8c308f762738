#include "codecs/mapping_config.hpp"

#include <gtest/gtest.h>

using namespace kesm::codecs;

namespace {

constexpr int64_t now = 1'800'000'000'000;

const cluster_map clusters{
  {"arn:aws:kafka:us-east-1:111122223333:cluster/c/1", {"127.0.0.1:9092"}}};

std::string doc(const std::string& extra) {
  return R"({"FunctionName":"fn","Topics":["t"],"StartingPosition":"LATEST",)"
         R"("SelfManagedEventSource":{"Endpoints":{"KAFKA_BOOTSTRAP_SERVERS":)"
         R"(["127.0.0.1:9092"]}})"
         + (extra.empty() ? "" : "," + extra) + "}";
}

std::string without(std::string s, const std::string& part) {
  s.erase(s.find(part), part.size());
  return s;
}

expected<mapping_config> parse(const std::string& json) {
  return parse_mapping(json, clusters, "", now);
}

/// Asserts that `json` is refused with a message containing `needle`.
void expect_invalid(const std::string& json, const std::string& needle) {
  auto m = parse(json);
  ASSERT_FALSE(m) << json;
  EXPECT_NE(m.err().message.find(needle), std::string::npos)
    << "message: " << m.err().message;
}

} // namespace

TEST(mapping_config, applies_lambda_defaults) {
  auto m = parse(doc(""));
  ASSERT_TRUE(m) << m.err().message;
  EXPECT_EQ(m->function_name, "fn");
  EXPECT_EQ(m->topic, "t");
  EXPECT_EQ(m->batch_size, 100);
  EXPECT_EQ(m->window_ms, 500);
  EXPECT_FALSE(m->window_set);
  EXPECT_TRUE(m->enabled);
  EXPECT_EQ(m->start, starting_position::latest);
  EXPECT_EQ(m->consumer_group_id, m->uuid);
  EXPECT_EQ(m->uuid.size(), 36u);
  EXPECT_TRUE(m->event_source_arn.empty());
  EXPECT_EQ(m->bootstrap_string(), "127.0.0.1:9092");
}

TEST(mapping_config, reads_every_supported_field) {
  auto m = parse(doc(R"("BatchSize":10000,"MaximumBatchingWindowInSeconds":0,)"
                     R"("Enabled":false,"SelfManagedKafkaEventSourceConfig":)"
                     R"({"ConsumerGroupId":"my-group"})"));
  ASSERT_TRUE(m) << m.err().message;
  EXPECT_EQ(m->batch_size, 10000);
  EXPECT_EQ(m->window_ms, 0);
  EXPECT_TRUE(m->window_set);
  EXPECT_FALSE(m->enabled);
  EXPECT_EQ(m->consumer_group_id, "my-group");
}

TEST(mapping_config, resolves_msk_arn_from_clusters) {
  auto m = parse(R"({"FunctionName":"fn","Topics":["t"],)"
                 R"("StartingPosition":"TRIM_HORIZON","EventSourceArn":)"
                 R"("arn:aws:kafka:us-east-1:111122223333:cluster/c/1",)"
                 R"("AmazonManagedKafkaEventSourceConfig":)"
                 R"({"ConsumerGroupId":"g1"}})");
  ASSERT_TRUE(m) << m.err().message;
  EXPECT_EQ(m->event_source_arn,
            "arn:aws:kafka:us-east-1:111122223333:cluster/c/1");
  EXPECT_EQ(m->bootstrap_string(), "127.0.0.1:9092");
  EXPECT_EQ(m->consumer_group_id, "g1");
  EXPECT_EQ(m->start, starting_position::trim_horizon);
}

TEST(mapping_config, unknown_cluster_is_not_found) {
  auto m = parse(R"({"FunctionName":"fn","Topics":["t"],)"
                 R"("StartingPosition":"LATEST","EventSourceArn":)"
                 R"("arn:aws:kafka:us-east-1:111122223333:cluster/x/9"})");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.err().code, errc::not_found);
  EXPECT_NE(m.err().message.find("clusters"), std::string::npos);
}

TEST(mapping_config, at_timestamp_needs_a_past_timestamp) {
  auto m = parse(doc("").replace(doc("").find("LATEST"), 6, "AT_TIMESTAMP")
                   .insert(1, "\"StartingPositionTimestamp\":1700000000.5,"));
  ASSERT_TRUE(m) << m.err().message;
  EXPECT_EQ(m->start, starting_position::at_timestamp);
  EXPECT_EQ(m->start_timestamp_ms, 1700000000500);
  auto base = doc("");
  base.replace(base.find("LATEST"), 6, "AT_TIMESTAMP");
  expect_invalid(base, "StartingPositionTimestamp is required");
  expect_invalid(std::string(base).insert(1, "\"StartingPositionTimestamp\":"
                                             "1900000000,"),
                 "cannot be in the future");
  expect_invalid(doc("\"StartingPositionTimestamp\":1"),
                 "only valid with StartingPosition AT_TIMESTAMP");
}

TEST(mapping_config, enforces_bounds_with_lambda_wording) {
  expect_invalid(doc("\"BatchSize\":0"),
                 "Value '0' at 'batchSize' failed to satisfy constraint: "
                 "Member must have value greater than or equal to 1");
  expect_invalid(doc("\"BatchSize\":10001"),
                 "Member must have value less than or equal to 10000");
  expect_invalid(doc("\"BatchSize\":\"5\""), "must be an integer");
  expect_invalid(doc("\"MaximumBatchingWindowInSeconds\":-1"),
                 "'maximumBatchingWindowInSeconds'");
  expect_invalid(doc("\"MaximumBatchingWindowInSeconds\":301"),
                 "less than or equal to 300");
  expect_invalid(doc("\"Enabled\":1"), "Enabled must be true or false");
  expect_invalid(doc("\"SelfManagedKafkaEventSourceConfig\":"
                     "{\"ConsumerGroupId\":\"\"}"),
                 "length greater than or equal to 1");
  expect_invalid(doc("\"SelfManagedKafkaEventSourceConfig\":"
                     "{\"ConsumerGroupId\":\"a b\"}"),
                 "regular expression pattern");
}

TEST(mapping_config, requires_kafka_essentials) {
  expect_invalid(R"({"Topics":["t"],"StartingPosition":"LATEST"})",
                 "'functionName'");
  expect_invalid(R"({"FunctionName":"fn","Topics":["t"],)"
                 R"("StartingPosition":"LATEST"})",
                 "exactly one event source");
  auto no_topic = without(doc(""), "\"Topics\":[\"t\"],");
  expect_invalid(no_topic, "Topics is required");
  expect_invalid(doc("").replace(doc("").find("[\"t\"]"), 5, "[\"a\",\"b\"]"),
                 "exactly one topic");
  auto no_pos = without(doc(""), "\"StartingPosition\":\"LATEST\",");
  expect_invalid(no_pos, "StartingPosition is required");
  expect_invalid(doc("").replace(doc("").find("LATEST"), 6, "OLDEST"),
                 "enum value set");
  expect_invalid(doc("").replace(doc("").find("127.0.0.1:9092"), 14, "nohost"),
                 "'endpoints'");
  expect_invalid("[1]", "must be a JSON object");
  expect_invalid("{", "not valid JSON");
}

TEST(mapping_config, refuses_fields_it_would_misread) {
  expect_invalid(doc("\"ParallelizationFactor\":2"),
                 "not supported for Kafka event sources");
  expect_invalid(doc("\"Queues\":[\"q\"]"), "not supported for Kafka");
  expect_invalid(doc("\"Bogus\":2"), "Unknown field Bogus");
}

TEST(mapping_config, keeps_a_given_uuid) {
  auto m = parse_mapping(doc(""), clusters, "11111111-2222-4333-8444-555555555555",
                         now);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->uuid, "11111111-2222-4333-8444-555555555555");
  EXPECT_NE(make_uuid(), make_uuid());
}

TEST(mapping_config, provisioned_poller_config_sets_the_scaling_mode) {
  auto on_demand = parse(doc(""));
  ASSERT_TRUE(on_demand);
  EXPECT_FALSE(on_demand->provisioned);
  auto empty = parse(doc(R"("ProvisionedPollerConfig":{})"));
  ASSERT_TRUE(empty) << empty.err().message;
  EXPECT_FALSE(empty->provisioned) << "{} means on demand";
  auto min_only = parse(doc(R"("ProvisionedPollerConfig":{"MinimumPollers":3})"));
  ASSERT_TRUE(min_only);
  EXPECT_TRUE(min_only->provisioned);
  EXPECT_EQ(min_only->min_pollers, 3);
  EXPECT_EQ(min_only->max_pollers, 200) << "AWS's default maximum";
  auto grouped = parse(doc(R"("ProvisionedPollerConfig":{"PollerGroupName":"g-1"})"));
  ASSERT_TRUE(grouped);
  EXPECT_TRUE(grouped->provisioned);
  EXPECT_EQ(grouped->poller_group, "g-1");
  EXPECT_FALSE(parse(doc(R"("ProvisionedPollerConfig":{"PollerGroupName":"a b"})")));
}

TEST(mapping_config, a_cross_account_vpc_connection_arn_takes_declared_brokers) {
  auto arn = std::string("arn:aws:kafka:us-east-1:444455556666:vpc-connection/"
                         "111122223333/orders/0a1b2c3d-4e5f-6789-abcd-ef0123456789-3");
  auto json = R"({"FunctionName":"fn","Topics":["t"],"StartingPosition":)"
              R"("LATEST","EventSourceArn":")"
              + arn + "\"}";
  cluster_map declared = clusters;
  declared[arn] = {"b-1.orders.vpce:14001"};
  auto cfg = parse_mapping(json, declared, "", now);
  ASSERT_TRUE(cfg) << cfg.err().message;
  EXPECT_EQ(cfg->bootstrap_string(), "b-1.orders.vpce:14001");
  auto undeclared = parse_mapping(json, clusters, "", now);
  ASSERT_FALSE(undeclared);
  EXPECT_EQ(undeclared.err().code, errc::not_found);
}
