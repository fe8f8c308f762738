#include <gtest/gtest.h>

#include <simdjson.h>

#include "actors/status_report.hpp"

namespace kesm::actors {
namespace {

mapping_status at(uint64_t polled, uint64_t invoked, uint64_t invocations,
                  uint64_t micros, uint64_t lag) {
  mapping_status s;
  s.polled_records = polled;
  s.invoked_records = invoked;
  s.invocations = invocations;
  s.invoke_micros = micros;
  s.offset_lag = lag;
  s.dead_lettered = invoked / 10;
  s.partition_lag = {{0, lag / 2}, {1, lag - lag / 2}};
  return s;
}

TEST(status_history, samples_once_a_second_and_keeps_a_bounded_window) {
  status_history h(3);
  EXPECT_TRUE(h.sample(at(0, 0, 0, 0, 0), 1000));
  EXPECT_FALSE(h.sample(at(5, 5, 1, 10, 0), 1500)); // too soon
  for (int i = 2; i <= 5; ++i)
    EXPECT_TRUE(h.sample(at(100u * i, 100u * i, 0, 0, 0), 1000 * i));
  ASSERT_EQ(h.samples().size(), 3u);
  EXPECT_EQ(h.samples().front().time_ms, 3000);
  EXPECT_EQ(h.samples().back().polled, 500u);
}

TEST(status_history, a_new_supervisor_counting_from_zero_starts_over) {
  status_history h;
  h.sample(at(900, 900, 9, 9000, 0), 1000);
  h.sample(at(1000, 1000, 10, 10000, 0), 2000);
  h.sample(at(10, 10, 1, 1000, 0), 3000); // restarted: counts are lower
  ASSERT_EQ(h.samples().size(), 1u);
  EXPECT_EQ(h.samples().front().polled, 10u);
}

TEST(status_report, json_has_rates_lag_per_partition_and_history_columns) {
  codecs::mapping_config cfg;
  cfg.uuid = "u-1";
  cfg.function_name = "fn \"quoted\"";
  cfg.topic = "t";
  cfg.batch_size = 7;
  codecs::mapping_runtime rt;
  rt.state = "Enabled";
  rt.last_processing_result = "OK";
  std::string source = "api";
  status_history h;
  h.sample(at(0, 0, 0, 0, 40), 10000);
  h.sample(at(1000, 500, 10, 20000, 30), 12000); // 2 s later
  auto last = at(1000, 500, 10, 20000, 30);
  status_view v{&cfg, &rt, &source, &last, &h};
  std::string out;
  append_status_json(out, v, true);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(out).get(doc)) << out;
  EXPECT_EQ(std::string_view(doc["FunctionName"]), "fn \"quoted\"");
  EXPECT_EQ(int64_t(doc["BatchSize"]), 7);
  EXPECT_EQ(int64_t(doc["OffsetLag"]), 30);
  EXPECT_EQ(int64_t(doc["Partitions"].at(1)["Lag"]), 15);
  EXPECT_DOUBLE_EQ(double(doc["Rates"]["PolledPerSecond"]), 500);
  EXPECT_DOUBLE_EQ(double(doc["Rates"]["InvokedPerSecond"]), 250);
  EXPECT_DOUBLE_EQ(double(doc["Rates"]["DeadLetteredPerSecond"]), 25);
  EXPECT_DOUBLE_EQ(double(doc["Rates"]["InvocationMs"]), 2);
  EXPECT_EQ(simdjson::dom::array(doc["History"]["t"]).size(), 1u);
  EXPECT_EQ(int64_t(doc["History"]["lag"].at(0)), 30);
  EXPECT_EQ(int64_t(doc["Totals"]["Invoked"]), 500);

  std::string brief;
  status_view idle{&cfg, &rt, &source, nullptr, &h};
  append_status_json(brief, idle, false);
  ASSERT_FALSE(parser.parse(brief).get(doc)) << brief;
  EXPECT_EQ(int64_t(doc["Pollers"]), 0); // no supervisor runs
  EXPECT_TRUE(doc["History"].error());
}

} // namespace
} // namespace kesm::actors
