#include "bench/bench_main.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <sys/utsname.h>

#include "actors/atoms.hpp"
#include "bench/children.hpp"
#include "bench/report.hpp"
#include "bench/runs.hpp"
#include "transport/http_client.hpp"
#include "transport/inprocess_target.hpp"
#include "transport/log.hpp"

namespace kesm::bench {

/// Experiment: CAF's workers at a lower priority (nice), so librdkafka's
/// broker thread wins the cores when all three want them.
struct worker_nice_hook : caf::thread_hook {
  explicit worker_nice_hook(int n) : nice(n) {
  }
  int nice;
  void init(caf::actor_system&) override {
  }
  void thread_started() override {
    char name[32] = "";
    pthread_getname_np(pthread_self(), name, sizeof(name));
    if (std::string_view{name} == "caf.multiplexer")
      setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice);
  }
  void thread_terminates() override {
  }
};

namespace {

/// Records a partition of the embedded broker holds for values of `bytes`:
/// about 5 MB or 100,000 messages, with room to spare.
uint64_t capacity(size_t bytes, int partitions) {
  uint64_t per = std::min<uint64_t>(100000, (5u << 20) / (bytes + 64));
  return per * 9 / 10 * static_cast<uint64_t>(partitions);
}

std::string machine() {
  utsname u{};
  uname(&u);
  std::string cpu;
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  return std::string(u.sysname) + " " + u.release + ", "
         + std::to_string(std::thread::hardware_concurrency()) + " cores, "
         + cpu;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"kesm-bench: kesm side by side with a raw librdkafka consumer"};
  uint64_t records = 0; // 0: what the embedded broker retains
  double min_seconds = 2;
  constexpr int max_copies = 24;
  // Cycles of one run at most: a bound for a run that never measures
  // `min_seconds` (records done in no time at all).
  constexpr int max_cycles = 1000;
  std::vector<size_t> value_sizes{100, 1000};
  int partitions = 16, rounds = 3, rate = 5000, seconds = 20, busy = 0;
  std::string json_path, only = "raw,in-process,http";
  bool latency = false;
  size_t pollers = 1;
  app.add_option("--records", records,
                 "Records per loaded copy of each value size (0, the"
                 " default: as many as the embedded broker retains, about 5"
                 " MB a partition)")
    ->capture_default_str();
  int preload = 1;
  app.add_option("--preload", preload,
                 "Copies of each value size the broker's process loads before"
                 " any run (more are loaded by the bench when needed; preload"
                 " keeps loading out of profiles)")
    ->check(CLI::Range(1, max_copies))
    ->capture_default_str();
  app.add_option("--min-seconds", min_seconds,
                 "Steady-state seconds each run measures at least: further"
                 " copies of the data are loaded and consumed until then")
    ->capture_default_str();
  app.add_option("--value-bytes", value_sizes, "Value sizes to measure")
    ->capture_default_str();
  app.add_option("--busy-partitions", busy,
                 "Records go to the first N partitions only; the others stay"
                 " empty, as with skewed keys (0, the default: all)")
    ->check(CLI::NonNegativeNumber);
  app.add_option("--partitions", partitions, "Partitions of the topics")
    ->check(CLI::Range(1, 256))
    ->capture_default_str();
  app.add_option("--rounds", rounds, "Rounds (runs alternate within each)")
    ->check(CLI::Range(1, 100))
    ->capture_default_str();
  app.add_option("--runs", only, "Which runs: raw,in-process,http")
    ->capture_default_str();
  app.add_option("--json", json_path, "Also write the results as JSON here");
  std::string function = "parse";
  app.add_option("--function", function,
                 "The HTTP function: parse (each event with simdjson's DOM"
                 " parser) or read (reads the body and answers {}, so the"
                 " run shows kesm's HTTP delivery without the function's"
                 " work; the run is named kesm/http-read)")
    ->check(CLI::IsMember({"parse", "read"}))
    ->capture_default_str();
  app.add_option("--pollers", pollers, "Pollers of the kesm mappings")
    ->check(CLI::Range(1, 64))
    ->capture_default_str();
  bool scaling = false;
  int delay_ms = 200, interval_s = 5;
  app.add_flag("--scaling", scaling,
               "Scaling mode: a backlog through a slow function, one poller"
               " vs on demand");
  app.add_option("--delay-ms", delay_ms, "Scaling mode: function time a call")
    ->capture_default_str();
  app.add_option("--scaling-interval", interval_s,
                 "Scaling mode: seconds between evaluations")
    ->capture_default_str();
  app.add_flag("--latency", latency,
               "Latency mode: steady producer, window 0, percentiles");
  app.add_option("--rate", rate, "Latency mode: records per second")
    ->capture_default_str();
  app.add_option("--seconds", seconds, "Latency mode: how long to produce")
    ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  transport::set_log_level(transport::log_level::warning);
  // Helpers first, while this process has a single thread.
  std::vector<std::pair<std::string, int>> topics;
  for (auto v : value_sizes)
    for (int k = 0; k < max_copies; ++k)
      topics.emplace_back("bench-" + std::to_string(v) + "-c"
                            + std::to_string(k),
                          partitions);
  // A fresh topic for every latency run: the embedded broker's fetch slows
  // down as a partition's log grows, which would blur later rounds.
  for (int i = 0; i < 2 * rounds; ++i)
    topics.emplace_back("bench-latency-" + std::to_string(i), partitions);
  std::vector<dataset> data;
  if (scaling) {
    // Enough for about 90 s at one poller (5 calls of 20 records a
    // delay): the ramp-up is a small part of the on-demand run.
    dataset ds;
    ds.topic = "bench-scaling";
    ds.partitions = partitions;
    ds.value_bytes = 100;
    ds.records = std::min<uint64_t>(
      capacity(100, partitions),
      static_cast<uint64_t>(90.0 * 100.0 * 1000.0 / std::max(1, delay_ms)));
    topics.emplace_back(ds.topic, partitions);
    data.push_back(ds);
  } else if (!latency)
    for (auto v : value_sizes) {
      dataset ds;
      ds.topic = "bench-" + std::to_string(v) + "-c0";
      ds.partitions = partitions;
      ds.busy_partitions = busy;
      ds.value_bytes = v;
      auto room = capacity(v, ds.loaded_partitions());
      ds.records = records == 0 ? room : std::min(records, room);
      if (records != 0 && ds.records < records)
        std::fprintf(stderr,
                     "%zu-byte values: %llu records (the embedded broker keeps"
                     " about 5 MB a partition)\n",
                     v, static_cast<unsigned long long>(ds.records));
      data.push_back(ds);
    }
  std::vector<dataset> loads;
  for (auto& ds : data)
    for (int k = 0; k < (scaling ? 1 : preload); ++k) {
      loads.push_back(ds);
      if (!scaling)
        loads.back().topic = "bench-" + std::to_string(ds.value_bytes) + "-c"
                             + std::to_string(k);
    }
  auto broker = fork_broker(topics, loads);
  for (auto& ds : data)
    ds.bytes = loaded_bytes(ds);
  bool parse = function == "parse";
  auto fn = only.find("http") != std::string::npos
              ? fork_function_server(parse)
              : child_process{};
  if (!broker.ok()) {
    std::cerr << "kesm-bench: the embedded broker did not start\n";
    return 1;
  }
  // The configuration kesm itself runs with, so the bench measures it.
  actors::actor_config cfg;
  if (const char* pol = std::getenv("KESM_SCHED"))
    cfg.set("scheduler.policy", caf::atom_from_string(pol));
  // Experiments: CAF's worker count and per-run message budget.
  if (const char* n = std::getenv("KESM_WORKERS"))
    cfg.set("scheduler.max-threads", static_cast<size_t>(std::atoi(n)));
  if (const char* n = std::getenv("KESM_MAX_THROUGHPUT"))
    cfg.set("scheduler.max-throughput", static_cast<size_t>(std::atoi(n)));
  // Experiments: any CAF setting, "name=value;name=value" (for example
  // work-stealing.moderate-poll-attempts=0).
  if (const char* v = std::getenv("KESM_CAF"))
    for (auto& [name, text] : name_values(v, ';')) {
      if (auto val = caf::config_value::parse(text))
        cfg.set(name, std::move(*val));
      else
        std::fprintf(stderr, "KESM_CAF: cannot parse %s=%s\n", name.c_str(),
                     text.c_str());
    }
  if (const char* n = std::getenv("KESM_WORKER_NICE"))
    cfg.add_thread_hook<worker_nice_hook>(std::atoi(n));
  caf::actor_system sys{cfg};
  std::vector<run_result> runs;
  std::vector<latency_result> lats;
  if (scaling) {
    auto& ds = data.front();
    ds.bootstrap = broker.first_line();
    std::vector<scaling_result> results;
    for (bool one : {true, false}) {
      // A fresh group each run, from the start of the same backlog.
      results.push_back(run_scaling(sys, ds, delay_ms, one,
                                    std::chrono::seconds(interval_s)));
      auto& r = results.back();
      std::printf("%-10s %llu records, %d ms a call, %d partitions: drained"
                  " in %.1f s (%.0f records/s), peak %u pollers, steady"
                  " after %.1f s\n",
                  r.name.c_str(), static_cast<unsigned long long>(r.records),
                  delay_ms, partitions, r.drain_seconds, r.records_per_s(),
                  r.peak_pollers, r.steady_seconds);
    }
    auto ratio = results[0].records_per_s() > 0
                   ? results[1].records_per_s() / results[0].records_per_s()
                   : 0;
    std::printf("on demand / 1 poller: %.2f x records/s\n", ratio);
    if (!json_path.empty()) {
      std::ofstream out(json_path);
      out << "{\"machine\":\"" << machine() << "\",\"delay_ms\":"
          << delay_ms << ",\"partitions\":" << partitions
          << ",\"interval_s\":" << interval_s << ",\"runs\":[";
      for (size_t i = 0; i < results.size(); ++i)
        out << (i ? "," : "") << "{\"name\":\"" << results[i].name
            << "\",\"records\":" << results[i].records
            << ",\"drain_s\":" << results[i].drain_seconds
            << ",\"records_per_s\":" << results[i].records_per_s()
            << ",\"peak_pollers\":" << results[i].peak_pollers
            << ",\"steady_s\":" << results[i].steady_seconds << "}";
      out << "],\"ratio\":" << ratio << "}\n";
    }
    for (auto& r : results)
      if (r.records < ds.records)
        return 1;
    return 0;
  }
  if (latency) {
    std::fprintf(stderr, "latency: %d records/s for %d s, %d partitions\n",
                 rate, seconds, partitions);
    for (int round = 1; round <= rounds; ++round) {
      auto t = [&](int i) {
        return "bench-latency-" + std::to_string(2 * (round - 1) + i);
      };
      lats.push_back(run_raw_latency(broker.first_line(), t(0), partitions,
                                     rate, seconds));
      lats.back().name = "raw";
      lats.push_back(run_latency(sys, broker.first_line(), t(1), partitions,
                                 rate, seconds));
      lats.back().name = "kesm/in-process";
      for (auto i = lats.size() - 2; i < lats.size(); ++i) {
        auto& l = lats[i];
        std::printf("round %d %-16s %d records/s (window 0): samples %llu, "
                    "p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms\n",
                    round, l.name.c_str(), rate,
                    static_cast<unsigned long long>(l.samples), l.p50, l.p99,
                    l.p999, l.max);
      }
    }
  } else {
    auto http = std::make_shared<transport::http_client>();
    auto noop = std::make_shared<transport::inprocess_target>(
      "noop", [](const std::string&) {
        transport::invocation_result r;
        r.status = 200;
        return r;
      });
    auto http_fn = std::make_shared<transport::http_target>(
      http, fn.first_line(), 60);
    for (auto& ds : data) {
      auto v = ds.value_bytes;
      ds.bootstrap = broker.first_line();
      ds.broker_pid = broker.pid();
      // Copy k of this value size, loaded the first time a run needs it
      // (the first `preload` were loaded by the broker's process).
      std::vector<dataset> copies;
      for (int k = 0; k < preload; ++k) {
        copies.push_back(ds);
        copies.back().topic = "bench-" + std::to_string(v) + "-c"
                              + std::to_string(k);
      }
      auto copy = [&](int k) -> dataset* {
        while (static_cast<int>(copies.size()) <= k) {
          auto next = ds;
          next.topic = "bench-" + std::to_string(v) + "-c"
                       + std::to_string(copies.size());
          if (!load(next))
            return nullptr;
          copies.push_back(next);
        }
        return &copies[static_cast<size_t>(k)];
      };
      // One run: copies consumed back to back until `min_seconds` of
      // steady state are measured. Past the last copy the run starts
      // over at the first: each cycle has a fresh group, so a copy read
      // again is read whole again (a 1000-byte in-process run drains all
      // 24 copies in about 1.7 s).
      auto measured = [&](auto&& once) {
        run_result total;
        int k = 0;
        for (; k == 0 || (total.seconds < min_seconds && k < max_cycles);
             ++k) {
          auto* d = copy(k % max_copies);
          if (d == nullptr)
            return run_result{};
          auto r = once(*d);
          if (r.records == 0)
            return r;
          if (k == 0)
            total = r;
          else
            total.add(r);
        }
        total.cycles = k;
        return total;
      };
      for (int round = 1; round <= rounds; ++round) {
        auto note = [&](const run_result& r) {
          char function_cpu[48] = "";
          if (r.function_cpu > 0)
            std::snprintf(function_cpu, sizeof(function_cpu),
                          "  function %.2f CPU s/M",
                          r.function_cpu_per_million());
          char broker_cpu[48] = "";
          if (r.broker_cpu > 0)
            std::snprintf(broker_cpu, sizeof(broker_cpu),
                          "  broker %.2f CPU s/M", r.broker_cpu_per_million());
          std::fprintf(stderr,
                       "round %d/%d %5zu B %-16s %9.0f records/s  %6.2f CPU s/M"
                       "  %5.0f MB RSS  %5.1f sw/k  %6.1f flt/k  %5llu kicks  %.2f s over %d cop%s%s%s\n",
                       round, rounds, v, r.name.c_str(), r.records_per_s(),
                       r.cpu_per_million(), r.rss_mb, r.switches_per_k(),
                       r.faults_per_k(), static_cast<unsigned long long>(r.kicks),
                       r.seconds, r.cycles,
                       r.cycles == 1 ? "y" : "ies", function_cpu, broker_cpu);
          runs.push_back(r);
          runs.back().round = round;
        };
        if (only.find("raw") != std::string::npos)
          note(measured([&](const dataset& d) { return run_raw(d); }));
        if (only.find("in-process") != std::string::npos)
          note(measured([&](const dataset& d) {
            return run_kesm(sys, d, "kesm/in-process", noop, pollers);
          }));
        if (only.find("http") != std::string::npos && fn.ok())
          note(measured([&](const dataset& d) {
            return run_kesm(sys, d, parse ? "kesm/http" : "kesm/http-read",
                            http_fn, pollers, fn.pid());
          }));
      }
    }
    auto sums = summarize(runs);
    std::printf("\n%s", table(sums).c_str());
    if (!json_path.empty()) {
      std::ofstream(json_path) << to_json(runs, sums, lats, machine());
      std::fprintf(stderr, "wrote %s\n", json_path.c_str());
    }
    for (auto& r : runs)
      if (r.records == 0) {
        std::cerr << "kesm-bench: a run did not finish (see above)\n";
        return 1;
      }
    return 0;
  }
  if (!json_path.empty())
    std::ofstream(json_path) << to_json(runs, {}, lats, machine());
  for (auto& l : lats)
    if (l.samples == 0)
      return 1;
  return 0;
}

} // namespace kesm::bench
