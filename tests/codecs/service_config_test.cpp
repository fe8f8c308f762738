#include "codecs/service_config.hpp"

#include <gtest/gtest.h>

using namespace kesm::codecs;

namespace {

constexpr int64_t now = 1'800'000'000'000;

const std::string example = R"({
  "functions": {"my-fn": {"url": "http://127.0.0.1:8080/", "timeout_seconds": 30}},
  "clusters":  {"arn:aws:kafka:us-east-1:111122223333:cluster/c/1": ["127.0.0.1:9092"]},
  "mappings":  [ { "FunctionName": "my-fn", "Topics": ["t"], "StartingPosition": "TRIM_HORIZON",
                   "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["127.0.0.1:9092"]}} },
                 { "FunctionName": "my-fn", "Topics": ["u"], "StartingPosition": "LATEST",
                   "EventSourceArn": "arn:aws:kafka:us-east-1:111122223333:cluster/c/1" } ]
})";

} // namespace

TEST(service_config, parses_the_documented_shape) {
  auto cfg = parse_service_config(example, now);
  ASSERT_TRUE(cfg) << cfg.err().message;
  ASSERT_EQ(cfg->functions.size(), 1u);
  EXPECT_EQ(cfg->functions.at("my-fn").url, "http://127.0.0.1:8080/");
  EXPECT_EQ(cfg->functions.at("my-fn").timeout_seconds, 30);
  ASSERT_EQ(cfg->mappings.size(), 2u);
  EXPECT_EQ(cfg->mappings[0].topic, "t");
  EXPECT_EQ(cfg->mappings[1].bootstrap_string(), "127.0.0.1:9092");
  EXPECT_NE(cfg->mappings[0].uuid, cfg->mappings[1].uuid);
}

TEST(service_config, keeps_a_mappings_uuid_and_group_across_restarts) {
  auto a = parse_service_config(example, now);
  auto edited = example;
  edited.replace(edited.find("\"TRIM_HORIZON\","), 15,
                 "\"TRIM_HORIZON\", \"BatchSize\": 7,");
  auto b = parse_service_config(edited, now);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b) << b.err().message;
  EXPECT_EQ(a->mappings[0].uuid, b->mappings[0].uuid);
  EXPECT_EQ(a->mappings[0].consumer_group_id, a->mappings[0].uuid);
  EXPECT_EQ(b->mappings[0].consumer_group_id, a->mappings[0].uuid);
  EXPECT_EQ(b->mappings[0].batch_size, 7);
  EXPECT_NE(a->mappings[0].uuid, a->mappings[1].uuid);
  EXPECT_EQ(a->mappings[0].uuid.size(), 36u);
  EXPECT_EQ(a->mappings[0].uuid[14], '5');
}

TEST(service_config, names_the_bad_mapping_and_field) {
  auto text = example;
  text.replace(text.find("\"Topics\": [\"u\"]"), 15,
               "\"Topics\": [\"u\"], \"BatchSize\": 0");
  auto cfg = parse_service_config(text, now);
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.err().message.find("mappings[1]"), std::string::npos);
  EXPECT_NE(cfg.err().message.find("batchSize"), std::string::npos);
}

TEST(service_config, rejects_unknown_functions_and_bad_timeouts) {
  auto text = example;
  text.replace(text.find("\"FunctionName\": \"my-fn\""), 23,
               "\"FunctionName\": \"other\"");
  auto cfg = parse_service_config(text, now);
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.err().message.find("Function not found: other"),
            std::string::npos);
  text = example;
  text.replace(text.find("30}"), 2, "900");
  cfg = parse_service_config(text, now);
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.err().message.find("1 to 840"), std::string::npos);
}

TEST(service_config, rejects_a_shared_consumer_group) {
  auto text = example;
  text.replace(text.find("\"Topics\": [\"u\"]"), 15,
               "\"Topics\": [\"u\"], \"AmazonManagedKafkaEventSourceConfig\":"
               " {\"ConsumerGroupId\": \"g\"}");
  text.replace(text.find("\"Topics\": [\"t\"]"), 15,
               "\"Topics\": [\"t\"], \"SelfManagedKafkaEventSourceConfig\":"
               " {\"ConsumerGroupId\": \"g\"}");
  auto cfg = parse_service_config(text, now);
  ASSERT_FALSE(cfg);
  EXPECT_NE(cfg.err().message.find("already used"), std::string::npos);
}

TEST(service_config, passes_kafka_properties_through) {
  auto cfg = parse_service_config(
    R"({"kafka":{"session.timeout.ms":6000,"client.rack":"a","check.crcs":true}})",
    now);
  ASSERT_TRUE(cfg) << cfg.err().message;
  EXPECT_EQ(cfg->kafka.at("session.timeout.ms"), "6000");
  EXPECT_EQ(cfg->kafka.at("client.rack"), "a");
  EXPECT_EQ(cfg->kafka.at("check.crcs"), "true");
  EXPECT_FALSE(parse_service_config(R"({"kafka":{"x":[1]}})", now));
}

TEST(service_config, rejects_unknown_keys_and_bad_json) {
  EXPECT_FALSE(parse_service_config("{\"function\":{}}", now));
  EXPECT_FALSE(parse_service_config("{", now));
  EXPECT_FALSE(parse_service_config(
    R"({"functions":{"f":{"url":"ftp://x"}}})", now));
}
