#include <gtest/gtest.h>

#include "integration/harness.hpp"

using namespace kesm;
using namespace kesm::test;
using std::chrono::milliseconds;

TEST(batching, batch_size_bounds_every_invocation) {
  test_cluster cluster;
  cluster.create_topic("sized", 1);
  cluster.produce("sized", 0, 100);
  scripted_function fn;
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "sized",
                          "\"StartingPosition\":\"TRIM_HORIZON\","
                          "\"BatchSize\":7");
  run.start(cfg, fn.url());
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 100; }));
  auto calls = fn.calls();
  size_t full = 0;
  for (auto& c : calls) {
    EXPECT_LE(c.records.size(), 7u);
    full += c.records.size() == 7 ? 1 : 0;
  }
  // A backlog fills batches: 14 of 7, one of 2 (allowing one short cut).
  EXPECT_GE(full, 13u);
  EXPECT_TRUE(strictly_increasing(calls));
}

TEST(batching, window_holds_records_until_it_elapses) {
  test_cluster cluster;
  cluster.create_topic("windowed", 1);
  scripted_function fn;
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "windowed",
                          "\"StartingPosition\":\"LATEST\","
                          "\"BatchSize\":1000,"
                          "\"MaximumBatchingWindowInSeconds\":2");
  auto m = run.start(cfg, fn.url());
  ASSERT_TRUE(eventually([&] { return !run.status(m).assigned.empty(); }));
  auto sent = std::chrono::steady_clock::now();
  cluster.produce("windowed", 0, 5);
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 5; }));
  auto calls = fn.calls();
  ASSERT_EQ(calls.size(), 1u) << "the window should gather all five";
  auto waited = calls[0].at - sent;
  EXPECT_GE(waited, milliseconds(1800));
  EXPECT_LT(waited, milliseconds(5000));
}

TEST(batching, window_zero_invokes_without_waiting) {
  test_cluster cluster;
  cluster.create_topic("instant", 1);
  cluster.produce("instant", 0, 1, "warm-up"); // producer metadata ready
  scripted_function fn;
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "instant",
                          "\"StartingPosition\":\"LATEST\","
                          "\"BatchSize\":1000,"
                          "\"MaximumBatchingWindowInSeconds\":0");
  auto m = run.start(cfg, fn.url());
  ASSERT_TRUE(eventually([&] { return !run.status(m).assigned.empty(); }));
  cluster.produce("instant", 0, 1);
  auto sent = std::chrono::steady_clock::now(); // acknowledged by now
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 1; }));
  auto waited = fn.calls().at(0).at - sent;
  // Well under the 500 ms default window.
  EXPECT_LT(waited, milliseconds(400))
    << std::chrono::duration_cast<milliseconds>(waited).count() << " ms";
}
