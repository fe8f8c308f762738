#include "codecs/dead_letter.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

using namespace kesm::codecs;

TEST(dead_letter, formats_iso8601_milliseconds) {
  EXPECT_EQ(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_ms(1573755365568), "2019-11-14T18:16:05.568Z");
  EXPECT_EQ(iso8601_ms(1573755364835), "2019-11-14T18:16:04.835Z");
}

TEST(dead_letter, writes_the_documented_envelope) {
  record_view r;
  r.offset = 100;
  r.timestamp = 1573755364835;
  dead_letter_source src{"arn:aws:lambda:us-east-1:1:function:f",
                         "arn:aws:kafka:us-east-1:1:cluster/c/1", "b1:9092"};
  dead_letter_response resp{500, true, {}, {}};
  std::string out;
  write_dead_letter(out, src, "req-1", failure_condition::retry_attempts_exhausted,
                    3, &resp, 1573755365568, r, R"({"eventSource":"aws:kafka"})");
  EXPECT_EQ(out,
            R"({"requestContext":{"requestId":"req-1","functionArn":)"
            R"("arn:aws:lambda:us-east-1:1:function:f","condition":)"
            R"("RetryAttemptsExhausted","approximateInvokeCount":3},)"
            R"("responseContext":{"statusCode":500,"executedVersion":)"
            R"("$LATEST","functionError":"Unhandled"},"version":"1.0",)"
            R"("timestamp":"2019-11-14T18:16:05.568Z","KafkaBatchInfo":)"
            R"({"batchSize":1,"eventSourceArn":)"
            R"("arn:aws:kafka:us-east-1:1:cluster/c/1","bootstrapServers":)"
            R"("b1:9092","payloadSize":27,"recordInfo":{"offset":"100",)"
            R"("timestamp":"2019-11-14T18:16:04.835Z"}},"payload":)"
            R"({"eventSource":"aws:kafka"}})");
}

TEST(dead_letter, keeps_lambdas_function_error_and_executed_version) {
  record_view r;
  dead_letter_source src{"arn:f", "", "b1:9092"};
  dead_letter_response resp{200, true, "Handled", "7"};
  std::string out;
  write_dead_letter(out, src, "req-2", failure_condition::retry_attempts_exhausted,
                    1, &resp, 0, r, "{}");
  EXPECT_NE(out.find(R"("responseContext":{"statusCode":200,)"
                     R"("executedVersion":"7","functionError":"Handled"})"),
            std::string::npos)
    << out;
}

TEST(dead_letter, payload_size_exceeded_has_no_response_context) {
  record_view r;
  r.offset = 7;
  dead_letter_source src{"fn", "", "h:1"};
  std::string out;
  write_dead_letter(out, src, "id", failure_condition::payload_size_exceeded,
                    0, nullptr, 0, r, "{}");
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_FALSE(p.parse(out).get(doc)) << out;
  EXPECT_TRUE(doc["responseContext"].is_null());
  EXPECT_EQ(std::string_view(doc["requestContext"]["condition"]),
            "MaximumPayloadSizeExceeded");
  EXPECT_TRUE(doc["KafkaBatchInfo"]["eventSourceArn"].error());
  EXPECT_EQ(to_string(failure_condition::record_age_exceeded),
            "RecordAgeExceeded");
}
