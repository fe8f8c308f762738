// Pollers that follow the load (esm-spec.md section 7): a slow function
// and a backlog on 16 partitions, against the embedded broker.
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "actors/capacity_pool.hpp"
#include "integration/harness.hpp"

using namespace kesm;
using namespace kesm::test;
using namespace std::chrono_literals;

namespace {

/// A function taking `delay` a call, recording the most calls at once.
struct slow_function {
  explicit slow_function(std::chrono::milliseconds delay,
                         std::function<int(size_t)> status = nullptr)
      : fn([this, delay, status](size_t n, const invocation&) {
          auto now = ++running;
          auto seen = peak.load();
          while (now > seen && !peak.compare_exchange_weak(seen, now)) {
            // retry
          }
          std::this_thread::sleep_for(delay);
          --running;
          transport::function_reply r;
          if (status)
            r.status = status(n);
          if (r.status != 200) {
            std::lock_guard<std::mutex> guard{mtx};
            failed.insert(n);
          }
          return r;
        }) {
    // nop
  }
  /// The calls that succeeded, in call order.
  std::vector<invocation> successes() {
    auto all = fn.calls();
    std::lock_guard<std::mutex> guard{mtx};
    std::vector<invocation> out;
    for (size_t i = 0; i < all.size(); ++i)
      if (!failed.count(i))
        out.push_back(all[i]);
    return out;
  }
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::mutex mtx;
  std::set<size_t> failed;
  scripted_function fn;
};

constexpr int partitions = 16;

void fill(test_cluster& c, const std::string& topic, int per_partition) {
  c.create_topic(topic, partitions);
  for (int p = 0; p < partitions; ++p)
    c.produce(topic, p, per_partition);
}

/// Every record delivered once at least, in order per partition, and the
/// group committed to the end.
void expect_all_delivered(test_cluster& c, slow_function& fn,
                          const std::string& topic, int per_partition) {
  auto calls = fn.successes();
  std::set<std::pair<int32_t, int64_t>> seen;
  for (auto& pos : positions(calls))
    seen.insert(pos);
  EXPECT_EQ(seen.size(), static_cast<size_t>(partitions * per_partition));
  EXPECT_TRUE(strictly_increasing(calls));
  EXPECT_TRUE(eventually([&] { return all_committed(c, topic, topic); }));
}

std::string mapping_extra(const std::string& more = "") {
  return "\"StartingPosition\":\"TRIM_HORIZON\",\"BatchSize\":20,"
         "\"MaximumBatchingWindowInSeconds\":0,"
         "\"SelfManagedKafkaEventSourceConfig\":{\"ConsumerGroupId\":\""
         + more + "\"}";
}

void quick_scaling(actors::mapping_options& o) {
  o.scaling_interval = 1000ms;
}

} // namespace

TEST(scaling, on_demand_adds_pollers_under_a_backlog_and_removes_them_after) {
  test_cluster cluster;
  fill(cluster, "od", 500);
  slow_function slow{200ms};
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "od", mapping_extra("od"));
  auto m = run.start(cfg, slow.fn.url(), quick_scaling);
  uint32_t most = 0;
  ASSERT_TRUE(eventually(
      [&] {
        most = std::max(most, run.status(m).pollers);
        return most >= 3;
      },
      15s))
      << "pollers stayed at " << most;
  ASSERT_TRUE(eventually([&] { return slow.fn.delivered() >= 8000; }, 90s));
  EXPECT_GT(slow.peak.load(), 5) << "never more than one poller's calls";
  // Drained: back to one poller after the cool-down.
  EXPECT_TRUE(eventually([&] { return run.status(m).pollers == 1; }, 30s))
      << run.status(m).pollers;
  expect_all_delivered(cluster, slow, "od", 500);
}

TEST(scaling, throttling_cuts_the_pollers) {
  test_cluster cluster;
  fill(cluster, "thr", 500);
  std::atomic<bool> throttle{false};
  slow_function slow{200ms, [&](size_t) { return throttle ? 429 : 200; }};
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "thr", mapping_extra("thr"));
  auto m = run.start(cfg, slow.fn.url(), quick_scaling);
  ASSERT_TRUE(eventually([&] { return run.status(m).pollers >= 4; }, 20s));
  auto before = run.status(m).pollers;
  throttle = true;
  EXPECT_TRUE(eventually([&] { return run.status(m).pollers < before; }, 10s))
      << "pollers stayed at " << before << " while the function throttled";
  throttle = false;
  ASSERT_TRUE(eventually([&] { return slow.fn.delivered() >= 8000; }, 120s));
  expect_all_delivered(cluster, slow, "thr", 500);
}

TEST(scaling, provisioned_bounds_hold_from_the_start_and_update_live) {
  test_cluster cluster;
  fill(cluster, "prov", 40);
  slow_function slow{200ms};
  runner run;
  auto extra = mapping_extra("prov")
               + ",\"ProvisionedPollerConfig\":{\"MinimumPollers\":2,"
                 "\"MaximumPollers\":2}";
  auto cfg = make_mapping(cluster.bootstrap(), "prov", extra);
  auto m = run.start(cfg, slow.fn.url(), quick_scaling);
  EXPECT_EQ(run.status(m).pollers, 2u) << "Min 2 from the first second";
  std::set<uint32_t> seen_counts;
  ASSERT_TRUE(eventually(
      [&] {
        seen_counts.insert(run.status(m).pollers);
        return slow.fn.call_count() >= 20;
      },
      30s));
  EXPECT_EQ(seen_counts, std::set<uint32_t>{2}) << "Min = Max = 2 throughout";
  EXPECT_LE(slow.peak.load(), 10);
  // Max 100 on 16 partitions: at most 16; applied live.
  auto wider
      = make_mapping(cluster.bootstrap(), "prov",
                     mapping_extra("prov")
                         + ",\"ProvisionedPollerConfig\":{"
                           "\"MinimumPollers\":4,\"MaximumPollers\":100}");
  wider.uuid = cfg.uuid;
  ASSERT_TRUE(run.reconfigure(m, wider, slow.fn.url()));
  EXPECT_TRUE(eventually([&] { return run.status(m).pollers >= 4; }, 5s));
  ASSERT_TRUE(eventually([&] { return slow.fn.delivered() >= 640; }, 60s));
  EXPECT_LE(run.status(m).pollers, 16u);
  EXPECT_EQ(run.status(m).revocations, 0u) << "scaling caused a rebalance";
  expect_all_delivered(cluster, slow, "prov", 40);
}

TEST(scaling, a_shared_cap_is_split_between_mappings) {
  test_cluster cluster;
  fill(cluster, "cap-a", 300);
  fill(cluster, "cap-b", 300);
  slow_function a{200ms}, b{200ms};
  runner run;
  auto pool = std::make_shared<actors::capacity_pool>(4);
  auto shared = [&](actors::mapping_options& o) {
    o.scaling_interval = 1000ms;
    o.capacity = pool;
  };
  auto ma = run.start(
      make_mapping(cluster.bootstrap(), "cap-a", mapping_extra("cap-a")),
      a.fn.url(), shared);
  auto mb = run.start(
      make_mapping(cluster.bootstrap(), "cap-b", mapping_extra("cap-b")),
      b.fn.url(), shared);
  uint32_t most = 0;
  bool both = false;
  ASSERT_TRUE(eventually(
      [&] {
        auto pa = run.status(ma).pollers, pb = run.status(mb).pollers;
        most = std::max(most, pa + pb);
        both = both || (pa >= 2 && pb >= 2);
        return a.fn.delivered() + b.fn.delivered() >= 9600;
      },
      120s));
  EXPECT_LE(most, 4u) << "the shared cap of 4 was exceeded";
  EXPECT_TRUE(both) << "the cap was not shared: one mapping kept it all";
  expect_all_delivered(cluster, a, "cap-a", 300);
  expect_all_delivered(cluster, b, "cap-b", 300);
}
