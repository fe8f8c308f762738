#pragma once

#include <string>
#include <vector>

#include "bench/measure.hpp"
#include "bench/runs.hpp"

namespace kesm::bench {

/// The median of each figure over the rounds of one (name, value size).
struct summary {
  std::string name;
  size_t value_bytes = 0;
  int rounds = 0;
  double records_per_s = 0;
  /// The spread of records/s over the rounds.
  double records_per_s_min = 0;
  double records_per_s_max = 0;
  /// Median steady-state seconds a round measured.
  double seconds = 0;
  double mb_per_s = 0;
  double cpu_per_million = 0;
  double switches_per_k = 0;
  double faults_per_k = 0;
  /// The HTTP function process's CPU per million records (http runs).
  double function_cpu_per_million = 0;
  /// The embedded broker process's CPU per million records.
  double broker_cpu_per_million = 0;
  double rss_mb = 0;
  /// Cores the process kept busy (CPU s / M records x M records / s),
  /// median over the rounds.
  double cores = 0;
  /// kesm runs: each round's records/s over raw's in the same round (same
  /// value size), median and spread; 0 without raw runs. The machine's
  /// speed moves between rounds, so this spread says how far one round's
  /// ratio can be trusted; `records_per_s` over raw's median is the other
  /// view.
  int paired_rounds = 0;
  double vs_raw_rounds_median = 0;
  double vs_raw_rounds_min = 0;
  double vs_raw_rounds_max = 0;
};

std::vector<summary> summarize(const std::vector<run_result>& runs);

/// The table of medians with kesm/raw ratios, as printed on stdout.
std::string table(const std::vector<summary>& sums);

/// Every run and every median as JSON (`--json`).
std::string to_json(const std::vector<run_result>& runs,
                    const std::vector<summary>& sums,
                    const std::vector<latency_result>& latencies,
                    const std::string& machine);

} // namespace kesm::bench
