#include <gtest/gtest.h>

#include "integration/harness.hpp"

using namespace kesm;
using namespace kesm::test;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

TEST(starting_position, trim_horizon_reads_the_whole_log) {
  test_cluster cluster;
  cluster.create_topic("th", 2);
  cluster.produce("th", 0, 20);
  cluster.produce("th", 1, 5);
  scripted_function fn;
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "th");
  run.start(cfg, fn.url());
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 25; }));
  ASSERT_TRUE(
    eventually([&] { return all_committed(cluster, cfg.consumer_group_id, "th"); }));
  EXPECT_EQ(positions(fn.calls()).size(), 25u);
}

TEST(starting_position, latest_skips_what_was_there_before) {
  test_cluster cluster;
  cluster.create_topic("lt", 1);
  cluster.produce("lt", 0, 20, "old");
  scripted_function fn;
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "lt",
                          "\"StartingPosition\":\"LATEST\","
                          "\"MaximumBatchingWindowInSeconds\":0");
  auto m = run.start(cfg, fn.url());
  ASSERT_TRUE(eventually([&] { return !run.status(m).assigned.empty(); }));
  cluster.produce("lt", 0, 10, "new");
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 10; }));
  ASSERT_TRUE(
    eventually([&] { return all_committed(cluster, cfg.consumer_group_id, "lt"); }));
  auto pos = positions(fn.calls());
  ASSERT_EQ(pos.size(), 10u);
  EXPECT_EQ(pos.front().second, 20);
  EXPECT_EQ(pos.back().second, 29);
  for (auto& c : fn.calls())
    for (auto& r : c.records)
      EXPECT_EQ(r.value->rfind("new-", 0), 0u);
}

TEST(starting_position, at_timestamp_starts_at_the_first_later_record) {
  test_cluster cluster;
  cluster.create_topic("ts", 1);
  auto now = now_ms();
  cluster.produce("ts", 0, 10, "before", now - 100000);
  cluster.produce("ts", 0, 7, "after", now - 10000);
  scripted_function fn;
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "ts",
                          "\"StartingPosition\":\"AT_TIMESTAMP\","
                          "\"StartingPositionTimestamp\":"
                            + std::to_string((now - 50000) / 1000));
  run.start(cfg, fn.url());
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 7; }));
  ASSERT_TRUE(
    eventually([&] { return all_committed(cluster, cfg.consumer_group_id, "ts"); }));
  auto pos = positions(fn.calls());
  ASSERT_EQ(pos.size(), 7u);
  EXPECT_EQ(pos.front().second, 10);
}

TEST(starting_position, a_committed_offset_wins_over_the_position) {
  test_cluster cluster;
  cluster.create_topic("cw", 1);
  cluster.produce("cw", 0, 10, "first");
  auto cfg = make_mapping(cluster.bootstrap(), "cw");
  {
    scripted_function fn;
    runner run;
    auto m = run.start(cfg, fn.url());
    ASSERT_TRUE(eventually(
      [&] { return all_committed(cluster, cfg.consumer_group_id, "cw"); }));
    run.stop(m);
  }
  cluster.produce("cw", 0, 5, "second");
  // Same group, now AT_TIMESTAMP far in the past: the commit (10) wins.
  auto again = make_mapping(cluster.bootstrap(), "cw",
                            "\"StartingPosition\":\"AT_TIMESTAMP\","
                            "\"StartingPositionTimestamp\":1000000000,"
                            "\"SelfManagedKafkaEventSourceConfig\":"
                            "{\"ConsumerGroupId\":\""
                              + cfg.consumer_group_id + "\"}");
  scripted_function fn;
  runner run;
  run.start(again, fn.url());
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 5; }));
  ASSERT_TRUE(eventually(
    [&] { return all_committed(cluster, cfg.consumer_group_id, "cw"); }));
  auto pos = positions(fn.calls());
  ASSERT_EQ(pos.size(), 5u);
  EXPECT_EQ(pos.front().second, 10);
}
