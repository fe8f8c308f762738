// Live updates: a running mapping takes a new BatchSize, window and
// function without a restart, a rebalance, or anything re-read.
#include <gtest/gtest.h>

#include "integration/harness.hpp"

using namespace kesm;
using namespace kesm::test;

TEST(update, batch_size_window_and_function_change_live) {
  test_cluster cluster;
  cluster.create_topic("live", 2);
  cluster.produce("live", 0, 20, "a");
  cluster.produce("live", 1, 20, "a");
  scripted_function first, second;
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "live",
                          "\"StartingPosition\":\"TRIM_HORIZON\","
                          "\"BatchSize\":100,"
                          "\"MaximumBatchingWindowInSeconds\":1");
  auto m = run.start(cfg, first.url());
  ASSERT_TRUE(eventually([&] { return first.delivered() == 40; }));
  auto next = make_mapping(cluster.bootstrap(), "live",
                           "\"StartingPosition\":\"TRIM_HORIZON\","
                           "\"BatchSize\":3,"
                           "\"MaximumBatchingWindowInSeconds\":0");
  next.uuid = cfg.uuid;
  next.consumer_group_id = cfg.consumer_group_id;
  ASSERT_TRUE(run.reconfigure(m, next, second.url()));
  cluster.produce("live", 0, 20, "b");
  cluster.produce("live", 1, 20, "b");
  ASSERT_TRUE(eventually([&] { return second.delivered() == 40; }));
  ASSERT_TRUE(eventually(
    [&] { return all_committed(cluster, cfg.consumer_group_id, "live"); }));
  EXPECT_EQ(first.delivered(), 40u) << "the old function got new records";
  for (auto& call : second.calls()) {
    EXPECT_LE(call.records.size(), 3u);
    for (auto& r : call.records)
      EXPECT_EQ(r.value->rfind("b-", 0), 0u) << "re-read: " << *r.value;
  }
  EXPECT_TRUE(strictly_increasing(second.calls()));
  auto st = run.status(m);
  EXPECT_EQ(st.revocations, 0u);
  EXPECT_EQ(st.state, "Enabled");
}
