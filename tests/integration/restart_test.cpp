#include <map>
#include <set>

#include <gtest/gtest.h>

#include "integration/harness.hpp"

using namespace kesm;
using namespace kesm::test;

TEST(restart, stop_and_restart_resumes_with_no_record_skipped) {
  test_cluster cluster;
  cluster.create_topic("resume", 2);
  for (int p = 0; p < 2; ++p)
    cluster.produce("resume", p, 300);
  auto cfg = make_mapping(cluster.bootstrap(), "resume",
                          "\"StartingPosition\":\"TRIM_HORIZON\","
                          "\"BatchSize\":20,"
                          "\"MaximumBatchingWindowInSeconds\":0");
  scripted_function first;
  std::map<int32_t, int64_t> committed;
  {
    runner run;
    auto m = run.start(cfg, first.url(), [](actors::mapping_options& mo) {
      mo.max_concurrency = 1; // slow enough to stop half-way
    });
    ASSERT_TRUE(eventually([&] { return first.delivered() >= 100; }));
    run.stop(m);
    for (auto& p : cluster.offsets(cfg.consumer_group_id, "resume"))
      committed[p.partition] = p.committed;
  }
  // A clean stop commits everything the function accepted.
  std::map<int32_t, int64_t> accepted;
  for (auto& c : first.calls())
    for (auto& r : c.records)
      accepted[r.partition] = std::max(accepted[r.partition], r.offset + 1);
  for (auto& [p, end] : accepted)
    EXPECT_EQ(committed[p], end) << "partition " << p;
  for (int p = 0; p < 2; ++p)
    cluster.produce("resume", p, 100, "late");
  scripted_function second;
  runner run;
  run.start(cfg, second.url());
  ASSERT_TRUE(eventually([&] {
    return all_committed(cluster, cfg.consumer_group_id, "resume");
  }));
  auto calls = second.calls();
  std::map<int32_t, int64_t> first_seen;
  for (auto& c : calls)
    for (auto& r : c.records)
      if (!first_seen.count(r.partition))
        first_seen[r.partition] = r.offset;
  std::set<std::pair<int32_t, int64_t>> all;
  for (auto& pos : positions(first.calls()))
    all.insert(pos);
  for (auto& pos : positions(calls))
    all.insert(pos);
  for (int p = 0; p < 2; ++p) {
    auto c = committed[p] < 0 ? 0 : committed[p];
    EXPECT_EQ(first_seen[p], c) << "restart did not resume at the commit";
    for (int64_t o = 0; o < 400; ++o)
      EXPECT_TRUE(all.count({p, o})) << "skipped " << p << "@" << o;
  }
  EXPECT_TRUE(strictly_increasing(calls));
}

TEST(restart, a_second_member_takes_partitions_and_nothing_is_skipped) {
  test_cluster cluster;
  cluster.create_topic("shared", 4);
  for (int p = 0; p < 4; ++p)
    cluster.produce("shared", p, 200, "early");
  auto cfg = make_mapping(cluster.bootstrap(), "shared",
                          "\"StartingPosition\":\"TRIM_HORIZON\","
                          "\"BatchSize\":10,"
                          "\"MaximumBatchingWindowInSeconds\":0");
  scripted_function fn_a, fn_b;
  runner run_a, run_b;
  auto a = run_a.start(cfg, fn_a.url(), [](actors::mapping_options& mo) {
    mo.max_concurrency = 1;
  });
  ASSERT_TRUE(eventually([&] { return fn_a.delivered() >= 100; }));
  // Same mapping document, same group: a second kesm node joins.
  auto b = run_b.start(cfg, fn_b.url());
  ASSERT_TRUE(eventually([&] {
    auto sa = run_a.status(a).assigned.size();
    auto sb = run_b.status(b).assigned.size();
    return sa > 0 && sb > 0 && sa + sb == 4;
  })) << "the group did not split the partitions";
  for (int p = 0; p < 4; ++p)
    cluster.produce("shared", p, 100, "late");
  ASSERT_TRUE(eventually(
    [&] { return all_committed(cluster, cfg.consumer_group_id, "shared"); }));
  std::set<std::pair<int32_t, int64_t>> seen;
  for (auto& pos : positions(fn_a.calls()))
    seen.insert(pos);
  for (auto& pos : positions(fn_b.calls()))
    seen.insert(pos);
  for (int p = 0; p < 4; ++p)
    for (int64_t o = 0; o < 300; ++o)
      EXPECT_TRUE(seen.count({p, o})) << "skipped " << p << "@" << o;
  // The newcomer reads each of its partitions in order.
  EXPECT_TRUE(strictly_increasing(fn_b.calls()));
  EXPECT_FALSE(fn_b.calls().empty());
}
