#include "actors/reader_budget.hpp"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

using kesm::actors::reader_budget;
using answer = reader_budget::answer;

namespace {

constexpr size_t step = reader_budget::step;

} // namespace

TEST(reader_budget, grants_steps_while_free_then_queues_first_come_first_served) {
  reader_budget budget(3 * step);
  std::vector<int> woken;
  auto a = budget.open([&] { woken.push_back(1); });
  auto b = budget.open([&] { woken.push_back(2); });
  auto c = budget.open([&] { woken.push_back(3); });
  EXPECT_EQ(budget.ask(a), answer::granted);
  EXPECT_EQ(budget.ask(a), answer::granted);
  EXPECT_EQ(budget.ask(b), answer::granted);
  EXPECT_EQ(budget.free(), 0u);
  EXPECT_EQ(budget.ask(c), answer::queued);
  EXPECT_EQ(budget.ask(b), answer::queued);
  EXPECT_EQ(budget.ask(c), answer::queued) << "still waiting, queued once";
  EXPECT_TRUE(woken.empty());
  // a holds 300 KB over a 64 KB floor: that needs two steps plus a
  // spare, more than it has: nothing back.
  budget.settle(*a, 64 * 1024 + 300 * 1024, 64 * 1024);
  EXPECT_EQ(a->granted(), 2 * step);
  // Its batches finished: all back, c first (it asked first), then b.
  budget.settle(*a, 0, 64 * 1024);
  EXPECT_EQ(a->granted(), 0u);
  EXPECT_EQ(woken, (std::vector<int>{3, 2}));
  EXPECT_EQ(c->granted(), step);
  EXPECT_EQ(b->granted(), 2 * step);
  EXPECT_EQ(budget.free(), 0u);
  EXPECT_EQ(budget.peak_granted(), 3 * step);
}

TEST(reader_budget, keeps_one_spare_step_over_what_a_busy_reader_holds) {
  reader_budget budget(10 * step);
  auto a = budget.open(nullptr);
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(budget.ask(a), answer::granted);
  // 1.5 steps over the floor: two steps cover it, plus one spare.
  budget.settle(*a, 1000 + step + step / 2, 1000);
  EXPECT_EQ(a->granted(), 3 * step);
  EXPECT_EQ(budget.free(), 7 * step);
  // At the floor or under it: none kept.
  budget.settle(*a, 1000, 1000);
  EXPECT_EQ(a->granted(), 0u);
  EXPECT_EQ(budget.free(), 10 * step);
}

TEST(reader_budget, no_reader_holds_more_than_its_cap) {
  reader_budget budget(100 * step, 2 * step);
  auto a = budget.open(nullptr);
  EXPECT_EQ(budget.ask(a), answer::granted);
  EXPECT_EQ(budget.ask(a), answer::granted);
  EXPECT_EQ(budget.ask(a), answer::at_cap);
  EXPECT_EQ(a->granted(), 2 * step);
}

// Under one step there is nothing to grant: a reader never waits for a
// step that cannot come (it lives on its floor and its credit).
TEST(reader_budget, a_budget_under_one_step_grants_nothing) {
  reader_budget budget(step - 1);
  auto a = budget.open(nullptr);
  EXPECT_EQ(budget.ask(a), answer::at_cap);
  EXPECT_EQ(budget.ask(a), answer::at_cap);
  EXPECT_EQ(a->granted(), 0u);
}

TEST(reader_budget, a_closed_share_gives_all_back_and_leaves_the_queue) {
  reader_budget budget(2 * step);
  int woken_b = 0, woken_c = 0;
  auto a = budget.open(nullptr);
  auto b = budget.open([&] { ++woken_b; });
  auto c = budget.open([&] { ++woken_c; });
  ASSERT_EQ(budget.ask(a), answer::granted);
  ASSERT_EQ(budget.ask(a), answer::granted);
  ASSERT_EQ(budget.ask(b), answer::queued);
  ASSERT_EQ(budget.ask(c), answer::queued);
  budget.close(*b); // b's reader stopped while it waited
  budget.close(*a);
  EXPECT_EQ(woken_b, 0);
  EXPECT_EQ(woken_c, 1);
  EXPECT_EQ(c->granted(), step);
  EXPECT_EQ(budget.free(), step);
  EXPECT_EQ(budget.ask(b), answer::at_cap) << "nothing for a closed share";
  EXPECT_EQ(b->granted(), 0u);
}

// Readers on several threads ask and give back at once: the grants never
// exceed the total, every queued reader is woken (a lost wake-up hangs
// its thread: it gives up after 10 s and the test fails), and all comes
// back in the end.
TEST(reader_budget, threads_never_hold_more_than_the_total) {
  reader_budget budget(8 * step);
  constexpr int readers = 6;
  std::atomic<int> stuck{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < readers; ++r)
    threads.emplace_back([&] {
      std::atomic<int> wakes{0};
      auto s = budget.open([&] { wakes.fetch_add(1); });
      for (int i = 0; i < 2000; ++i) {
        if (budget.ask(s) == answer::queued) {
          // What a waiting reader holds comes back as its batches finish.
          budget.settle(*s, 0, 0);
          auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
          while (wakes.load() == 0 && std::chrono::steady_clock::now() < until)
            std::this_thread::yield();
          if (wakes.load() == 0) {
            stuck.fetch_add(1);
            break;
          }
          wakes.fetch_sub(1);
        }
        budget.settle(*s, i % 3 == 0 ? 0 : step, 0);
      }
      budget.close(*s);
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(stuck.load(), 0);
  EXPECT_EQ(budget.free(), budget.total());
  EXPECT_LE(budget.peak_granted(), budget.total());
}
