#include "codecs/mapping_update.hpp"

#include <gtest/gtest.h>

#include "codecs/mapping_config.hpp"

using namespace kesm::codecs;

namespace {

const std::string stored
  = R"({"FunctionName":"fn","Topics":["t"],"StartingPosition":"LATEST",)"
    R"("BatchSize":10,"SelfManagedEventSource":{"Endpoints":)"
    R"({"KAFKA_BOOTSTRAP_SERVERS":["h:9092"]}}})";

} // namespace

TEST(mapping_update, replaces_updatable_fields_and_keeps_the_rest) {
  auto merged = apply_update(
    stored, R"({"BatchSize":500,"Enabled":false,"FunctionName":"other"})");
  ASSERT_TRUE(merged) << merged.err().message;
  auto m = parse_mapping(*merged, {}, "u", 0);
  ASSERT_TRUE(m) << m.err().message;
  EXPECT_EQ(m->batch_size, 500);
  EXPECT_FALSE(m->enabled);
  EXPECT_EQ(m->function_name, "other");
  EXPECT_EQ(m->topic, "t");
  EXPECT_EQ(m->bootstrap_string(), "h:9092");
}

TEST(mapping_update, refuses_create_only_fields) {
  for (auto body : {R"({"Topics":["u"]})", R"({"StartingPosition":"LATEST"})",
                    R"({"EventSourceArn":"arn:aws:kafka:x"})",
                    R"({"SelfManagedEventSource":{}})",
                    R"({"StartingPositionTimestamp":1})"}) {
    auto r = apply_update(stored, body);
    ASSERT_FALSE(r) << body;
    EXPECT_NE(r.err().message.find("cannot be updated"), std::string::npos);
  }
}

TEST(mapping_update, refuses_fields_it_cannot_apply_and_bad_json) {
  EXPECT_FALSE(apply_update(stored, R"({"ParallelizationFactor":2})"));
  EXPECT_FALSE(apply_update(stored, R"({"Bogus":1})"));
  EXPECT_FALSE(apply_update(stored, "[1]"));
  EXPECT_FALSE(apply_update(stored, "{"));
}
