// Google Benchmark micro-benchmarks of the codecs: event encoding (records/s
// and bytes of event JSON per second) and response parsing.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "codecs/event_writer.hpp"
#include "codecs/response_parser.hpp"

using namespace kesm::codecs;

namespace {

void encode_event(benchmark::State& state) {
  auto value_bytes = static_cast<size_t>(state.range(0));
  constexpr size_t n = 1000;
  std::vector<std::string> keys, values;
  for (size_t i = 0; i < n; ++i) {
    keys.push_back("key-" + std::to_string(i));
    values.push_back(std::string(value_bytes, static_cast<char>('a' + i % 26)));
  }
  header_view hs[2] = {{"source", "kesm-bench", 10},
                       {"trace", "0123456789abcdef", 16}};
  std::vector<record_view> recs(n);
  for (size_t i = 0; i < n; ++i) {
    auto& r = recs[i];
    r.offset = static_cast<int64_t>(1000000 + i);
    r.timestamp = 1700000000000;
    r.key = keys[i].data();
    r.key_len = keys[i].size();
    r.value = values[i].data();
    r.value_len = values[i].size();
    r.headers = hs;
    r.header_count = 2;
  }
  event_writer w("", "127.0.0.1:9092");
  partition_slice s{"bench-topic", 7, recs.data(), n};
  std::string out;
  size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    w.write(out, &s, 1);
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(encode_event)->Arg(100)->Arg(1000)->Arg(10000);

void parse_response(benchmark::State& state) {
  std::string body = "{\"batchItemFailures\":[";
  for (int i = 0; i < state.range(0); ++i)
    body += std::string(i ? "," : "")
            + "{\"itemIdentifier\":{\"partition\":\"orders-3\",\"offset\":"
            + std::to_string(1000 + i) + "}}";
  body += "]}";
  response_parser p;
  for (auto _ : state) {
    auto r = p.parse(body);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(
    static_cast<int64_t>(state.iterations() * static_cast<int64_t>(body.size())));
}
BENCHMARK(parse_response)->Arg(0)->Arg(10)->Arg(1000);

void parse_empty_response(benchmark::State& state) {
  response_parser p;
  std::string body = "{}";
  for (auto _ : state) {
    auto r = p.parse(body);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(parse_empty_response);

} // namespace

BENCHMARK_MAIN();
