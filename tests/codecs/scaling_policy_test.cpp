#include "codecs/scaling_policy.hpp"

#include <gtest/gtest.h>

using namespace kesm::codecs;

namespace {

/// Drives the policy period by period, as the supervisor does.
struct driver {
  scaling_knobs knobs;
  scaling_bounds bounds{false, 1, 0, 16, 0};
  scaling_memory mem;

  scaling_decision step(uint64_t lag, double busy, uint32_t throttles = 0) {
    return decide(knobs, bounds, mem,
                  scaling_observation{lag, busy, throttles});
  }
};

} // namespace

TEST(scaling_policy, doubles_while_slots_are_busy_and_records_wait) {
  driver d;
  EXPECT_EQ(d.step(5000, 1.0).pollers, 2u);
  EXPECT_EQ(d.step(4800, 1.0).pollers, 4u);
  auto r = d.step(4000, 0.85);
  EXPECT_EQ(r.pollers, 8u);
  EXPECT_EQ(r.reason, scaling_reason::lag);
}

TEST(scaling_policy, a_deep_backlog_with_full_slots_quadruples) {
  driver d;
  EXPECT_EQ(d.step(50000, 1.0).pollers, 4u);
  EXPECT_EQ(d.step(48000, 0.99).pollers, 16u) << "1 -> 16 in two periods";
  d.bounds.partitions = 64;
  EXPECT_EQ(d.step(47000, 1.0).pollers, 32u) << "at most +16 at once";
}

TEST(scaling_policy, never_exceeds_the_owned_partitions) {
  driver d;
  d.bounds.partitions = 3;
  for (int i = 0; i < 5; ++i)
    d.step(50000, 1.0);
  EXPECT_EQ(d.mem.pollers, 3u);
}

TEST(scaling_policy, busy_slots_without_waiting_records_add_nothing) {
  driver d;
  EXPECT_EQ(d.step(0, 1.0).reason, scaling_reason::none);
  d.mem.last_lag = 20;
  EXPECT_EQ(d.step(20, 1.0).pollers, 1u)
      << "20 records, not growing, below the lag floor";
}

TEST(scaling_policy, a_growing_small_lag_adds_a_poller) {
  driver d;
  d.mem.last_lag = 10;
  EXPECT_EQ(d.step(10, 1.0).pollers, 1u);
  EXPECT_EQ(d.step(30, 1.0).pollers, 2u);
}

TEST(scaling_policy, idle_pollers_go_one_at_a_time_after_the_cool_down) {
  driver d;
  d.mem.pollers = 4;
  EXPECT_EQ(d.step(0, 0.1).pollers, 4u);
  EXPECT_EQ(d.step(0, 0.1).pollers, 4u);
  auto r = d.step(0, 0.1);
  EXPECT_EQ(r.pollers, 3u);
  EXPECT_EQ(r.reason, scaling_reason::idle);
  EXPECT_EQ(d.step(0, 0.1).pollers, 3u) << "the cool-down starts again";
}

TEST(scaling_policy, a_steady_load_does_not_flap) {
  driver d;
  d.mem.pollers = 3;
  for (int i = 0; i < 50; ++i) {
    auto r = d.step(500, 0.55);
    ASSERT_EQ(r.pollers, 3u) << "period " << i;
  }
}

TEST(scaling_policy, an_interrupted_idle_run_starts_over) {
  driver d;
  d.mem.pollers = 2;
  d.step(0, 0.1);
  d.step(0, 0.1);
  d.step(500, 0.5); // some work
  d.step(0, 0.1);
  EXPECT_EQ(d.step(0, 0.1).pollers, 2u);
  EXPECT_EQ(d.step(0, 0.1).pollers, 1u);
}

TEST(scaling_policy, throttling_halves_and_recovers_slowly) {
  driver d;
  d.mem.pollers = 8;
  auto r = d.step(50000, 1.0, 3);
  EXPECT_EQ(r.pollers, 4u);
  EXPECT_EQ(r.reason, scaling_reason::throttled);
  EXPECT_EQ(d.step(50000, 1.0, 1).pollers, 2u);
  // Quiet periods: no scale-up yet.
  EXPECT_EQ(d.step(50000, 1.0).pollers, 2u);
  EXPECT_EQ(d.step(50000, 1.0).pollers, 2u);
  // Then one at a time.
  EXPECT_EQ(d.step(50000, 1.0).pollers, 3u);
  EXPECT_EQ(d.step(50000, 1.0).pollers, 4u);
  EXPECT_EQ(d.step(50000, 1.0).pollers, 5u);
  EXPECT_EQ(d.step(50000, 1.0).pollers, 6u);
  EXPECT_EQ(d.step(50000, 1.0).pollers, 7u);
  EXPECT_EQ(d.step(50000, 1.0).pollers, 8u);
  // Long after: growing fast again (a deep backlog: x4, capped at 16).
  EXPECT_EQ(d.step(50000, 1.0).pollers, 16u);
}

TEST(scaling_policy, throttling_never_goes_below_the_minimum) {
  driver d;
  d.bounds = scaling_bounds{true, 3, 10, 16, 0};
  d.mem.pollers = 4;
  EXPECT_EQ(d.step(100, 1.0, 5).pollers, 3u);
  EXPECT_EQ(d.step(100, 1.0, 5).pollers, 3u);
}

TEST(scaling_policy, provisioned_minimum_holds_from_the_start_even_idle) {
  driver d;
  d.bounds = scaling_bounds{true, 2, 2, 16, 0};
  auto r = d.step(0, 0.0);
  EXPECT_EQ(r.pollers, 2u);
  EXPECT_EQ(r.reason, scaling_reason::bounds);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(d.step(0, 0.0).pollers, 2u);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(d.step(90000, 1.0).pollers, 2u) << "Max 2 holds";
}

TEST(scaling_policy, maximum_is_capped_by_partitions_and_the_process) {
  uint32_t lo = 0, hi = 0;
  scaling_range(scaling_bounds{true, 1, 100, 16, 0}, lo, hi);
  EXPECT_EQ(hi, 16u);
  scaling_range(scaling_bounds{true, 1, 100, 16, 6}, lo, hi);
  EXPECT_EQ(hi, 6u);
  scaling_range(scaling_bounds{true, 20, 100, 16, 0}, lo, hi);
  EXPECT_EQ(lo, 16u) << "a minimum above the partitions is capped too";
  scaling_range(scaling_bounds{false, 1, 0, 0, 0}, lo, hi);
  EXPECT_EQ(hi, 1u) << "on demand before any partition: one poller";
}

TEST(scaling_policy, a_lowered_maximum_applies_at_once) {
  driver d;
  d.bounds = scaling_bounds{true, 1, 10, 16, 0};
  d.mem.pollers = 8;
  d.bounds.max_pollers = 3;
  auto r = d.step(50000, 1.0);
  EXPECT_EQ(r.pollers, 3u);
  EXPECT_EQ(r.reason, scaling_reason::bounds);
}

TEST(share_capacity, everyone_gets_what_fits) {
  auto g = share_capacity({{1, 4, 10}, {2, 3, 0}}, 10);
  EXPECT_EQ(g, (std::vector<uint32_t>{4, 3}));
  EXPECT_EQ(share_capacity({{1, 40, 10}}, 0)[0], 40u) << "0: no limit";
}

TEST(share_capacity, minimums_first_then_by_lag) {
  // Cap 10: minimums 2 + 3, then 5 by lag (3:1 -> 3 and 1, one left over
  // to the larger lag).
  auto g = share_capacity({{2, 10, 300}, {3, 10, 100}}, 10);
  EXPECT_EQ(g[0] + g[1], 10u);
  EXPECT_EQ(g[0], 6u);
  EXPECT_EQ(g[1], 4u);
}

TEST(share_capacity, minimums_that_do_not_fit_are_scaled_never_to_zero) {
  auto g = share_capacity({{8, 8, 0}, {8, 8, 0}, {1, 1, 0}}, 4);
  for (auto x : g)
    EXPECT_GE(x, 1u);
  EXPECT_LE(g[0] + g[1] + g[2], 5u);
}

TEST(share_capacity, a_grant_never_exceeds_what_was_wanted) {
  auto g = share_capacity({{1, 2, 1000}, {1, 50, 1}}, 20);
  EXPECT_EQ(g[0], 2u);
  EXPECT_EQ(g[1], 18u);
}

TEST(event_poller_units, ten_pollers_or_20_mb_per_second) {
  EXPECT_DOUBLE_EQ(event_poller_units(10, 0), 1.0);
  EXPECT_DOUBLE_EQ(event_poller_units(1, 40e6), 2.0);
  EXPECT_DOUBLE_EQ(event_poller_units(5, 1e6), 0.5);
}

TEST(scaling_policy, growth_stops_where_no_more_calls_can_run) {
  driver d;
  // 16 partitions, one batch in flight each: 16 calls, 4 pollers' worth.
  scaling_observation obs{50000, 1.0, 0, 4};
  EXPECT_EQ(decide(d.knobs, d.bounds, d.mem, obs).pollers, 4u);
  EXPECT_EQ(decide(d.knobs, d.bounds, d.mem, obs).pollers, 4u);
  d.bounds = scaling_bounds{true, 6, 10, 16, 0};
  EXPECT_EQ(decide(d.knobs, d.bounds, d.mem, obs).pollers, 6u)
      << "a provisioned minimum above it still holds";
}
