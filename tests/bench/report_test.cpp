#include "bench/report.hpp"

#include <gtest/gtest.h>

using namespace kesm::bench;

namespace {

run_result run(const std::string& name, int round, uint64_t records,
               double seconds, double cpu) {
  run_result r;
  r.name = name;
  r.value_bytes = 100;
  r.round = round;
  r.records = records;
  r.seconds = seconds;
  r.cpu = cpu;
  return r;
}

} // namespace

TEST(bench_report, pairs_each_round_with_raw_of_the_same_round) {
  // raw swings 1 M / 3 M / 2 M records/s, kesm holds 2 M: the medians'
  // ratio is 1.0, the rounds' ratios are 2.0, 0.67 and 1.0.
  std::vector<run_result> runs = {
    run("raw", 1, 1000000, 1.0, 0.5),
    run("kesm/in-process", 1, 2000000, 1.0, 1.5),
    run("raw", 2, 3000000, 1.0, 1.0),
    run("kesm/in-process", 2, 2000000, 1.0, 1.6),
    run("raw", 3, 2000000, 1.0, 0.8),
    run("kesm/in-process", 3, 4000000, 2.0, 3.0),
  };
  auto sums = summarize(runs);
  ASSERT_EQ(sums.size(), 2u);
  auto& raw = sums[0];
  auto& kesm = sums[1];
  EXPECT_EQ(raw.name, "raw");
  EXPECT_EQ(raw.paired_rounds, 0);
  EXPECT_DOUBLE_EQ(raw.cores, 0.8);
  EXPECT_EQ(kesm.paired_rounds, 3);
  EXPECT_NEAR(kesm.vs_raw_rounds_median, 1.0, 1e-9);
  EXPECT_NEAR(kesm.vs_raw_rounds_min, 2.0 / 3.0, 1e-9);
  EXPECT_NEAR(kesm.vs_raw_rounds_max, 2.0, 1e-9);
  EXPECT_NEAR(kesm.cores, 1.5, 1e-9);
  auto t = table(sums);
  EXPECT_NE(t.find("| 1.00 x (0.67-2.00) |"), std::string::npos) << t;
  auto j = to_json(runs, sums, {}, "m");
  EXPECT_NE(j.find("\"paired_rounds\":3,\"vs_raw_rounds_median\":1.0000"),
            std::string::npos)
    << j;
}

TEST(bench_report, leaves_the_ratio_out_without_raw) {
  std::vector<run_result> runs = {run("kesm/http", 1, 1000, 1.0, 0.001)};
  auto sums = summarize(runs);
  ASSERT_EQ(sums.size(), 1u);
  EXPECT_EQ(sums[0].paired_rounds, 0);
  EXPECT_EQ(to_json(runs, sums, {}, "m").find("vs_raw_rounds"),
            std::string::npos);
}
