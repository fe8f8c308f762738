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

TEST(service_config, reads_lambda_and_signed_url_functions) {
  auto cfg = parse_service_config(
    R"({"functions":{"a":{"lambda":"arn:aws:lambda:eu-west-1:1:function:f:live",)"
    R"("region":"eu-west-1","endpoint":"http://127.0.0.1:1"},)"
    R"("b":{"url":"https://x.lambda-url.us-east-1.on.aws/","sign":"lambda",)"
    R"("headers":{"X-Tenant":"t1"},"ca_file":"/etc/ca.pem"}}})",
    now);
  ASSERT_TRUE(cfg) << cfg.err().message;
  EXPECT_EQ(cfg->functions["a"].lambda,
            "arn:aws:lambda:eu-west-1:1:function:f:live");
  EXPECT_EQ(cfg->functions["a"].endpoint, "http://127.0.0.1:1");
  EXPECT_EQ(cfg->functions["b"].sign, "lambda");
  EXPECT_EQ(cfg->functions["b"].headers["X-Tenant"], "t1");
  EXPECT_EQ(cfg->functions["b"].ca_file, "/etc/ca.pem");
  for (auto* bad :
       {R"({"functions":{"a":{"lambda":"f","url":"http://h/"}}})",
        R"({"functions":{"a":{"region":"eu-west-1"}}})",
        R"({"functions":{"a":{"lambda":"f","sign":"lambda"}}})",
        R"({"functions":{"a":{"url":"http://h/","headers":{"X":1}}}})"}) {
    auto c = parse_service_config(bad, now);
    ASSERT_FALSE(c) << bad;
    EXPECT_NE(c.err().message.find("functions.a"), std::string::npos)
      << c.err().message;
  }
}
