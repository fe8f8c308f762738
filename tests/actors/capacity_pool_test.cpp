#include "actors/capacity_pool.hpp"

#include <gtest/gtest.h>

using kesm::actors::capacity_pool;
using kesm::codecs::capacity_demand;

TEST(capacity_pool, grows_only_into_what_the_others_do_not_run) {
  capacity_pool pool(4);
  EXPECT_EQ(pool.share("a", "", {1, 1, 0}), 1u);
  EXPECT_EQ(pool.share("b", "", {1, 1, 0}), 1u);
  // a wants 4 with a lag: fair share is 3 (b keeps its minimum).
  EXPECT_EQ(pool.share("a", "", {1, 4, 1000}), 3u);
  // b now wants 4 with the same lag: fair is 2, but a runs 3: 1 is free.
  EXPECT_EQ(pool.share("b", "", {1, 4, 1000}), 1u);
  // a's next evaluation gives up its surplus, then b grows into it.
  EXPECT_EQ(pool.share("a", "", {1, 4, 1000}), 2u);
  EXPECT_EQ(pool.share("b", "", {1, 4, 1000}), 2u);
}

TEST(capacity_pool, a_leaving_mapping_frees_its_share) {
  capacity_pool pool(4);
  EXPECT_EQ(pool.share("a", "", {1, 4, 10}), 4u);
  EXPECT_EQ(pool.share("b", "", {1, 4, 10}), 1u) << "its minimum, always";
  pool.leave("a");
  EXPECT_EQ(pool.share("b", "", {1, 4, 10}), 4u);
}

TEST(capacity_pool, a_group_is_capped_whatever_the_process_allows) {
  capacity_pool pool(0, 5);
  EXPECT_EQ(pool.share("a", "g", {1, 4, 10}), 4u);
  EXPECT_EQ(pool.share("b", "g", {1, 4, 10}), 2u) << "the group holds 5";
  EXPECT_EQ(pool.share("c", "", {1, 40, 10}), 40u) << "no process cap";
}
