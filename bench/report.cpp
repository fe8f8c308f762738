#include "bench/report.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

namespace kesm::bench {

namespace {

double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

} // namespace

std::vector<summary> summarize(const std::vector<run_result>& runs) {
  std::map<std::pair<size_t, std::string>, std::vector<const run_result*>> by;
  std::vector<std::pair<size_t, std::string>> order;
  for (auto& r : runs) {
    auto key = std::make_pair(r.value_bytes, r.name);
    if (!by.count(key))
      order.push_back(key);
    by[key].push_back(&r);
  }
  std::vector<summary> out;
  for (auto& key : order) {
    auto& rs = by[key];
    summary s;
    s.name = key.second;
    s.value_bytes = key.first;
    s.rounds = static_cast<int>(rs.size());
    // raw's runs of the same value size, looked up once for the pairing.
    const std::vector<const run_result*>* raws = nullptr;
    if (key.second != "raw") {
      auto it = by.find({key.first, "raw"});
      if (it != by.end())
        raws = &it->second;
    }
    std::vector<double> a, b, c, d, e, f, g, h, k, cores, vs_raw;
    for (auto* r : rs) {
      cores.push_back(r->cpu_per_million() * r->records_per_s() / 1e6);
      if (raws != nullptr)
        for (auto* raw : *raws)
          if (raw->round == r->round && raw->records_per_s() > 0)
            vs_raw.push_back(r->records_per_s() / raw->records_per_s());
      e.push_back(r->seconds);
      a.push_back(r->records_per_s());
      b.push_back(r->mb_per_s());
      c.push_back(r->cpu_per_million());
      d.push_back(r->rss_mb);
      f.push_back(r->switches_per_k());
      g.push_back(r->faults_per_k());
      h.push_back(r->function_cpu_per_million());
      k.push_back(r->broker_cpu_per_million());
    }
    s.records_per_s = median(a);
    s.records_per_s_min = *std::min_element(a.begin(), a.end());
    s.records_per_s_max = *std::max_element(a.begin(), a.end());
    s.seconds = median(e);
    s.mb_per_s = median(b);
    s.cpu_per_million = median(c);
    s.rss_mb = median(d);
    s.switches_per_k = median(f);
    s.faults_per_k = median(g);
    s.function_cpu_per_million = median(h);
    s.broker_cpu_per_million = median(k);
    s.cores = median(cores);
    if (!vs_raw.empty()) {
      s.paired_rounds = static_cast<int>(vs_raw.size());
      s.vs_raw_rounds_median = median(vs_raw);
      s.vs_raw_rounds_min = *std::min_element(vs_raw.begin(), vs_raw.end());
      s.vs_raw_rounds_max = *std::max_element(vs_raw.begin(), vs_raw.end());
    }
    out.push_back(s);
  }
  return out;
}

std::string table(const std::vector<summary>& sums) {
  std::string t = "| value B | run | records/s | spread | s measured | MB/s "
                  "| CPU s / M records | peak RSS MB | records/s vs raw | "
                  "CPU vs raw | switches / k records | faults / k records | "
                  "function CPU s / M records | broker CPU s / M records | "
                  "cores | rounds vs raw |\n"
                  "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
                  "---:|---:|---:|---:|\n";
  for (auto& s : sums) {
    const summary* raw = nullptr;
    for (auto& r : sums)
      if (r.name == "raw" && r.value_bytes == s.value_bytes)
        raw = &r;
    std::string ratio = "", cpu = "";
    if (raw != nullptr && s.name != "raw" && raw->records_per_s > 0) {
      ratio = fmt("%.2f x", s.records_per_s / raw->records_per_s);
      cpu = fmt("%.2f x", s.cpu_per_million / raw->cpu_per_million);
    }
    auto spread = s.records_per_s > 0
                    ? fmt("-%.0f", 100 * (1 - s.records_per_s_min
                                                  / s.records_per_s))
                        + fmt("/+%.0f %%", 100 * (s.records_per_s_max
                                                    / s.records_per_s
                                                  - 1))
                    : std::string();
    t += "| " + std::to_string(s.value_bytes) + " | " + s.name + " | "
         + fmt("%.0f", s.records_per_s) + " | " + spread + " | "
         + fmt("%.2f", s.seconds) + " | " + fmt("%.1f", s.mb_per_s)
         + " | " + fmt("%.2f", s.cpu_per_million) + " | "
         + fmt("%.0f", s.rss_mb) + " | " + ratio + " | " + cpu + " | "
         + fmt("%.1f", s.switches_per_k) + " | "
         + fmt("%.1f", s.faults_per_k) + " | "
         + (s.function_cpu_per_million > 0
              ? fmt("%.2f", s.function_cpu_per_million)
              : std::string())
         + " | "
         + (s.broker_cpu_per_million > 0
              ? fmt("%.2f", s.broker_cpu_per_million)
              : std::string())
         + " | " + fmt("%.2f", s.cores) + " | "
         + (s.paired_rounds > 0
              ? fmt("%.2f x", s.vs_raw_rounds_median)
                  + fmt(" (%.2f", s.vs_raw_rounds_min)
                  + fmt("-%.2f)", s.vs_raw_rounds_max)
              : std::string())
         + " |\n";
  }
  return t;
}

std::string to_json(const std::vector<run_result>& runs,
                    const std::vector<summary>& sums,
                    const std::vector<latency_result>& latencies,
                    const std::string& machine) {
  std::string j = "{\"machine\":\"" + machine + "\",\"runs\":[";
  for (size_t i = 0; i < runs.size(); ++i) {
    auto& r = runs[i];
    j += (i ? "," : "") + std::string("{\"name\":\"") + r.name
         + "\",\"value_bytes\":" + std::to_string(r.value_bytes)
         + ",\"round\":" + std::to_string(r.round)
         + ",\"records\":" + std::to_string(r.records)
         + ",\"seconds\":" + fmt("%.4f", r.seconds)
         + ",\"cycles\":" + std::to_string(r.cycles)
         + ",\"startup_seconds\":" + fmt("%.4f", r.startup)
         + ",\"stop_seconds\":" + fmt("%.4f", r.stop_seconds)
         + ",\"cpu_seconds\":" + fmt("%.4f", r.cpu)
         + ",\"records_per_s\":" + fmt("%.1f", r.records_per_s())
         + ",\"mb_per_s\":" + fmt("%.2f", r.mb_per_s())
         + ",\"cpu_s_per_million\":" + fmt("%.3f", r.cpu_per_million())
         + ",\"peak_rss_mb\":" + fmt("%.1f", r.rss_mb)
         + ",\"context_switches\":" + std::to_string(r.switches)
         + ",\"minor_faults\":" + std::to_string(r.faults)
         + ",\"invocations\":" + std::to_string(r.invocations)
         + ",\"fetch_kicks\":" + std::to_string(r.kicks)
         + ",\"function_cpu_s_per_million\":"
         + fmt("%.3f", r.function_cpu_per_million())
         + ",\"broker_cpu_s_per_million\":"
         + fmt("%.3f", r.broker_cpu_per_million()) + "}";
  }
  j += "],\"medians\":[";
  for (size_t i = 0; i < sums.size(); ++i) {
    auto& s = sums[i];
    j += (i ? "," : "") + std::string("{\"name\":\"") + s.name
         + "\",\"value_bytes\":" + std::to_string(s.value_bytes)
         + ",\"records_per_s\":" + fmt("%.1f", s.records_per_s)
         + ",\"records_per_s_min\":" + fmt("%.1f", s.records_per_s_min)
         + ",\"records_per_s_max\":" + fmt("%.1f", s.records_per_s_max)
         + ",\"seconds\":" + fmt("%.3f", s.seconds)
         + ",\"mb_per_s\":" + fmt("%.2f", s.mb_per_s)
         + ",\"cpu_s_per_million\":" + fmt("%.3f", s.cpu_per_million)
         + ",\"peak_rss_mb\":" + fmt("%.1f", s.rss_mb)
         + ",\"switches_per_k_records\":" + fmt("%.2f", s.switches_per_k)
         + ",\"faults_per_k_records\":" + fmt("%.2f", s.faults_per_k)
         + ",\"function_cpu_s_per_million\":"
         + fmt("%.3f", s.function_cpu_per_million)
         + ",\"broker_cpu_s_per_million\":"
         + fmt("%.3f", s.broker_cpu_per_million)
         + ",\"cores\":" + fmt("%.3f", s.cores);
    if (s.paired_rounds > 0)
      j += ",\"paired_rounds\":" + std::to_string(s.paired_rounds)
           + ",\"vs_raw_rounds_median\":" + fmt("%.4f", s.vs_raw_rounds_median)
           + ",\"vs_raw_rounds_min\":" + fmt("%.4f", s.vs_raw_rounds_min)
           + ",\"vs_raw_rounds_max\":" + fmt("%.4f", s.vs_raw_rounds_max);
    j += "}";
  }
  j += "],\"latency\":[";
  for (size_t i = 0; i < latencies.size(); ++i) {
    auto& l = latencies[i];
    j += (i ? "," : "") + std::string("{\"name\":\"") + l.name
         + "\",\"rate\":" + fmt("%.0f", l.rate)
         + ",\"samples\":" + std::to_string(l.samples)
         + ",\"p50_ms\":" + fmt("%.3f", l.p50) + ",\"p99_ms\":"
         + fmt("%.3f", l.p99) + ",\"p999_ms\":" + fmt("%.3f", l.p999)
         + ",\"max_ms\":" + fmt("%.3f", l.max) + "}";
  }
  return j + "]}\n";
}

} // namespace kesm::bench
