#include "codecs/response_parser.hpp"

#include <gtest/gtest.h>

using namespace kesm::codecs;

namespace {

expected<function_response> parse(std::string_view s) {
  static response_parser p;
  return p.parse(s);
}

} // namespace

TEST(response_parser, empty_null_and_empty_object_mean_success) {
  for (auto body : {"", "  \n", "null", "{}", "{\"batchItemFailures\":[]}",
                    "{\"batchItemFailures\":null}", "{\"other\":1}"}) {
    auto r = parse(body);
    ASSERT_TRUE(r) << body << ": " << r.err().message;
    EXPECT_TRUE(r->failures.empty()) << body;
  }
}

TEST(response_parser, reads_batch_item_failures) {
  auto r = parse(R"({"batchItemFailures":[
      {"itemIdentifier":{"partition":"mytopic-0","offset":100}},
      {"itemIdentifier":{"partition":"mytopic-3","offset":"7"}}]})");
  ASSERT_TRUE(r) << r.err().message;
  ASSERT_EQ(r->failures.size(), 2u);
  EXPECT_EQ(r->failures[0].partition, "mytopic-0");
  EXPECT_EQ(r->failures[0].offset, 100);
  EXPECT_EQ(r->failures[1].partition, "mytopic-3");
  EXPECT_EQ(r->failures[1].offset, 7);
}

TEST(response_parser, rejects_invalid_json) {
  for (auto body : {"{", "nul", "{\"a\":}", "{} x"}) {
    auto r = parse(body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.err().code, errc::invalid_json) << body;
  }
}

TEST(response_parser, rejects_malformed_failures) {
  for (auto body : {
         R"("ok")",
         R"([1])",
         R"({"batchItemFailures":{}})",
         R"({"batchItemFailures":[1]})",
         R"({"batchItemFailures":[{}]})",
         R"({"batchItemFailures":[{"itemIdentifier":null}]})",
         R"({"batchItemFailures":[{"itemIdentifier":{"offset":1}}]})",
         R"({"batchItemFailures":[{"itemIdentifier":{"partition":"","offset":1}}]})",
         R"({"batchItemFailures":[{"itemIdentifier":{"partition":"t-0"}}]})",
         R"({"batchItemFailures":[{"itemIdentifier":{"partition":"t-0","offset":-1}}]})",
         R"({"batchItemFailures":[{"itemIdentifier":{"partition":"t-0","offset":"1x"}}]})",
         R"({"batchItemFailures":[{"itemIdentifier":{"partition":"t-0","offset":1.5}}]})",
       }) {
    auto r = parse(body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.err().code, errc::invalid_shape) << body;
    EXPECT_NE(r.err().message.find("expected"), std::string::npos);
  }
}
