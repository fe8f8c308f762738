// Log lines in both formats, read back through the log tap.
#include "transport/log.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

using namespace kesm::transport;

namespace {

std::string one_line(log_level level, std::string_view component,
                     std::string_view text) {
  std::string got;
  set_log_tap([&](const std::string& l) { got = l; });
  log(level, component, text);
  set_log_tap(nullptr);
  return got;
}

} // namespace

TEST(log, json_lines_are_one_object_each_with_the_mappings_uuid) {
  set_log_format(log_format::json);
  auto line = one_line(log_level::warning,
                       "mapping 0b9e6a1c-8f3e-4c1a-9d2b-1a2b3c4d5e6f",
                       "PROBLEM: \"quoted\"\nand a newline");
  set_log_format(log_format::text);
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  ASSERT_FALSE(parser.parse(line).get_object().get(obj)) << line;
  std::string_view level, uuid, message, time;
  ASSERT_FALSE(obj["level"].get(level));
  ASSERT_FALSE(obj["uuid"].get(uuid));
  ASSERT_FALSE(obj["message"].get(message));
  ASSERT_FALSE(obj["time"].get(time));
  EXPECT_EQ(level, "warning");
  EXPECT_EQ(uuid, "0b9e6a1c-8f3e-4c1a-9d2b-1a2b3c4d5e6f");
  EXPECT_EQ(message, "PROBLEM: \"quoted\"\nand a newline");
  EXPECT_EQ(time.size(), 24u) << time; // 2026-11-22T03:30:26.123Z
  EXPECT_EQ(line.find('\n'), std::string::npos);
  // Lines of other components carry no uuid.
  set_log_format(log_format::json);
  auto serve = one_line(log_level::info, "serve", "running");
  set_log_format(log_format::text);
  EXPECT_EQ(serve.find("\"uuid\""), std::string::npos) << serve;
}

TEST(log, text_lines_are_unchanged_by_default) {
  auto line = one_line(log_level::error, "registry", "stopped");
  EXPECT_EQ(line.substr(24), " ERROR registry: stopped") << line;
}
