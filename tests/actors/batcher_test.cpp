#include "actors/batcher.hpp"

#include <gtest/gtest.h>

#include <caf/scheduler/test_coordinator.hpp>

#include "support/chunks.hpp"

using namespace kesm;
using namespace kesm::actors;
using namespace std::chrono_literals;

namespace {

/// A batcher under CAF's deterministic scheduler, with a fake invoker that
/// keeps every batch and a fake reader per partition that sums its credit.
struct batcher_fixture : ::testing::Test {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::shared_ptr<std::vector<batch_ptr>> batches
    = std::make_shared<std::vector<batch_ptr>>();
  std::shared_ptr<std::map<int32_t, uint64_t>> credit
    = std::make_shared<std::map<int32_t, uint64_t>>();
  caf::actor invoker;
  caf::actor uut;

  void SetUp() override {
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    auto log = batches;
    invoker = sys->spawn([log](caf::event_based_actor*) -> caf::behavior {
      return {[log](const batch_ptr& b) { log->push_back(b); }};
    });
  }

  void TearDown() override {
    caf::anon_send_exit(uut, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(invoker, caf::exit_reason::user_shutdown);
    sched->run();
  }

  void start(size_t batch_size, std::chrono::milliseconds window,
             size_t max_payload = codecs::max_payload_bytes) {
    batcher_config bc;
    bc.batch_size = batch_size;
    bc.window = window;
    bc.max_payload = max_payload;
    auto writer = std::make_shared<codecs::event_writer>("", "h:1");
    uut = sys->spawn(batcher, bc, writer, invoker);
    sched->run();
  }

  void assign(int32_t partition) {
    auto sums = credit;
    auto reader = sys->spawn([sums, partition](caf::event_based_actor*)
                               -> caf::behavior {
      return {[sums, partition](credit_atom, uint64_t n, uint64_t) {
        (*sums)[partition] += n;
      }};
    });
    caf::anon_send(uut, assign_atom_v, partition, uint64_t{1}, reader);
    sched->run();
  }

  void feed(int32_t partition, int64_t first, size_t n,
            size_t value_bytes = 10) {
    caf::anon_send(uut, test::make_chunk("t", partition, first, n,
                                         value_bytes));
    sched->run();
  }

  void finish(const batch_ptr& b) {
    caf::anon_send(uut, done_atom_v, b);
    sched->run();
  }

  void advance(std::chrono::milliseconds d) {
    sched->advance_time(d);
    sched->run();
  }
};

} // namespace

TEST_F(batcher_fixture, flushes_when_window_elapses) {
  start(100, 500ms);
  assign(0);
  feed(0, 0, 3);
  EXPECT_TRUE(batches->empty());
  advance(499ms);
  EXPECT_TRUE(batches->empty());
  advance(1ms);
  ASSERT_EQ(batches->size(), 1u);
  EXPECT_EQ(batches->at(0)->record_count(), 3u);
  EXPECT_EQ(batches->at(0)->parts.at(0).first_offset, 0);
  EXPECT_EQ(batches->at(0)->parts.at(0).last_offset, 2);
}

TEST_F(batcher_fixture, window_counts_from_the_first_record) {
  start(100, 500ms);
  assign(0);
  feed(0, 0, 1);
  advance(300ms);
  feed(0, 1, 1);
  advance(200ms);
  ASSERT_EQ(batches->size(), 1u);
  EXPECT_EQ(batches->at(0)->record_count(), 2u);
}

TEST_F(batcher_fixture, flushes_at_batch_size_without_waiting) {
  start(10, 500ms);
  assign(0);
  feed(0, 0, 25);
  // Two full batches at once would need two in flight for one partition:
  // only one goes; the rest waits for it.
  ASSERT_EQ(batches->size(), 1u);
  EXPECT_EQ(batches->at(0)->record_count(), 10u);
  finish(batches->at(0));
  ASSERT_EQ(batches->size(), 2u);
  EXPECT_EQ(batches->at(1)->parts.at(0).first_offset, 10);
  EXPECT_EQ(batches->at(1)->record_count(), 10u);
  finish(batches->at(1));
  // 5 left, fewer than BatchSize: they wait for the window.
  ASSERT_EQ(batches->size(), 2u);
  advance(500ms);
  ASSERT_EQ(batches->size(), 3u);
  EXPECT_EQ(batches->at(2)->record_count(), 5u);
}

TEST_F(batcher_fixture, window_zero_invokes_at_once) {
  start(100, 0ms);
  assign(0);
  feed(0, 0, 1);
  ASSERT_EQ(batches->size(), 1u);
  EXPECT_EQ(batches->at(0)->record_count(), 1u);
}

TEST_F(batcher_fixture, keeps_one_batch_in_flight_per_partition) {
  start(100, 0ms);
  assign(0);
  feed(0, 0, 2);
  feed(0, 2, 3);
  ASSERT_EQ(batches->size(), 1u);
  finish(batches->at(0));
  ASSERT_EQ(batches->size(), 2u);
  EXPECT_EQ(batches->at(1)->parts.at(0).first_offset, 2);
  EXPECT_EQ(batches->at(1)->record_count(), 3u);
}

TEST_F(batcher_fixture, puts_several_partitions_in_one_payload) {
  start(100, 500ms);
  assign(0);
  assign(1);
  feed(0, 0, 2);
  feed(1, 40, 3);
  advance(500ms);
  ASSERT_EQ(batches->size(), 1u);
  auto& b = *batches->at(0);
  ASSERT_EQ(b.parts.size(), 2u);
  EXPECT_EQ(b.record_count(), 5u);
  EXPECT_NE(b.payload->find("\"t-0\":["), std::string::npos);
  EXPECT_NE(b.payload->find("\"t-1\":["), std::string::npos);
}

TEST_F(batcher_fixture, limits_batches_in_flight_to_five) {
  start(100, 0ms);
  for (int32_t p = 0; p < 6; ++p)
    assign(p);
  for (int32_t p = 0; p < 6; ++p)
    feed(p, 0, 1);
  ASSERT_EQ(batches->size(), 5u);
  finish(batches->at(0));
  ASSERT_EQ(batches->size(), 6u);
  EXPECT_EQ(batches->at(5)->parts.at(0).partition, 5);
}

TEST_F(batcher_fixture, cuts_before_the_payload_limit) {
  start(1000, 500ms, 4000);
  assign(0);
  feed(0, 0, 20, 300); // ~20 x 560 bytes of event: several batches
  ASSERT_EQ(batches->size(), 1u); // over the limit: no wait for the window
  size_t seen = 0;
  while (seen < batches->size()) {
    auto b = batches->at(seen++);
    EXPECT_LE(b->payload->size(), 4000u);
    EXPECT_GT(b->record_count(), 0u);
    finish(b);
    advance(500ms);
  }
  size_t total = 0;
  for (auto& b : *batches)
    total += b->record_count();
  EXPECT_EQ(total, 20u);
  EXPECT_GE(batches->size(), 3u);
}

TEST_F(batcher_fixture, returns_credit_when_a_batch_is_done) {
  start(100, 0ms);
  assign(0);
  feed(0, 0, 4);
  EXPECT_EQ((*credit)[0], 0u);
  finish(batches->at(0));
  EXPECT_EQ((*credit)[0], 4u);
}

TEST_F(batcher_fixture, drops_records_of_a_revoked_partition) {
  start(100, 500ms);
  assign(0);
  feed(0, 0, 4);
  caf::anon_send(uut, revoke_atom_v, int32_t{0});
  sched->run();
  advance(1000ms);
  EXPECT_TRUE(batches->empty());
}

TEST(payload_pool, reuses_a_released_buffer_and_keeps_its_capacity) {
  auto pool = std::make_shared<actors::payload_pool>(2, 1 << 20);
  const char* first = nullptr;
  {
    auto p = pool->take();
    p->assign(100000, 'x');
    first = p->data();
    EXPECT_EQ(pool->idle(), 0u);
  }
  EXPECT_EQ(pool->idle(), 1u);
  auto again = pool->take();
  // Its bytes stay: the next event is written over them (overwrite).
  EXPECT_EQ(again->size(), 100000u);
  EXPECT_GE(again->capacity(), 100000u);
  EXPECT_EQ(again->data(), first); // the same memory, not a new buffer
}

TEST(payload_pool, keeps_at_most_its_count_and_no_oversized_buffer) {
  auto pool = std::make_shared<actors::payload_pool>(2, 1 << 20);
  {
    auto a = pool->take(), b = pool->take(), c = pool->take();
    auto big = pool->take();
    big->assign(2 << 20, 'y'); // over max_bytes: freed, not kept
  }
  EXPECT_EQ(pool->idle(), 2u);
}
