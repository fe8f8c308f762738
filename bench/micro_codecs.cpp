// Google Benchmark micro-benchmarks of the codecs: event encoding (records/s
// and bytes of event JSON per second) and response parsing.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include <cstring>
#include <memory>

#include <simdjson.h>

#include "codecs/avro.hpp"
#include "codecs/event_writer.hpp"
#include "codecs/protobuf_schema.hpp"
#include "codecs/filter.hpp"
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

/// 1,000 JSON record values of about 200 bytes, varied so that branches
/// and caches see realistic data.
std::vector<std::string> json_values() {
  std::vector<std::string> out;
  const char* kinds[] = {"order", "refund", "payment", "shipment", "Order"};
  const char* regions[] = {"us-east-1", "eu-west-1", "ap-south-1"};
  for (int i = 0; i < 1000; ++i) {
    std::string v = R"({"id":"evt-)" + std::to_string(100000 + i)
                    + R"(","kind":")" + kinds[i % 5] + R"(","region":")"
                    + regions[i % 3] + R"(","amount":)"
                    + std::to_string((i * 37) % 1000) + "." + std::to_string(i % 10)
                    + R"(,"customer":{"name":"Customer )" + std::to_string(i)
                    + R"(","tier":")" + (i % 7 == 0 ? "gold" : "basic")
                    + R"("},"tags":["a","b",")" + std::to_string(i % 13)
                    + R"("],"note":"padding padding padding padding pad"})";
    out.push_back(v);
  }
  return out;
}

/// The same values in simdjson's padded buffers.
std::vector<simdjson::padded_string> padded_json_values() {
  std::vector<simdjson::padded_string> out;
  for (auto& v : json_values())
    out.emplace_back(v);
  return out;
}

/// Records/s through a 5-filter matcher (issue 6's measurement).
void filter_five_patterns(benchmark::State& state) {
  auto values = json_values();
  auto f = record_filter::compile(
    {R"({"value":{"kind":["refund"],"amount":[{"numeric":[">",500]}]}})",
     R"({"value":{"customer":{"tier":["gold"]},"region":[{"prefix":"eu-"}]}})",
     R"({"value":{"kind":[{"equals-ignore-case":"ORDER"}],"tags":["7"]}})",
     R"({"value":{"region":[{"anything-but":["us-east-1","eu-west-1"]}],"amount":[{"numeric":["<",10]}]}})",
     R"({"value":{"$or":[{"id":["evt-100999"]},{"note":[{"exists":false}]}]}})"});
  if (!f) {
    state.SkipWithError(f.err().message.c_str());
    return;
  }
  size_t matched = 0, n = 0;
  for (auto _ : state) {
    auto& v = values[n++ % values.size()];
    matched += f->matches(v.data(), v.size()) ? 1 : 0;
  }
  benchmark::DoNotOptimize(matched);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["match_ratio"]
    = static_cast<double>(matched) / static_cast<double>(n);
}
BENCHMARK(filter_five_patterns);

/// The parse alone, DOM (what the matcher uses) ...
void parse_value_dom(benchmark::State& state) {
  auto padded = padded_json_values();
  simdjson::dom::parser parser;
  size_t n = 0;
  for (auto _ : state) {
    simdjson::dom::element e;
    auto err = parser.parse(padded[n++ % padded.size()]).get(e);
    benchmark::DoNotOptimize(err);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(parse_value_dom);

/// ... and on-demand, reading the two fields a typical pattern reads (Debian
/// builds its on-demand kernel for the baseline CPU).
void parse_value_ondemand(benchmark::State& state) {
  auto padded = padded_json_values();
  simdjson::ondemand::parser parser;
  size_t n = 0;
  for (auto _ : state) {
    auto doc = parser.iterate(padded[n++ % padded.size()]);
    std::string_view kind;
    double amount = 0;
    auto e1 = doc["kind"].get_string().get(kind);
    auto e2 = doc["amount"].get_double().get(amount);
    benchmark::DoNotOptimize(e1);
    benchmark::DoNotOptimize(e2);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetLabel(simdjson::get_active_implementation()->name());
}
BENCHMARK(parse_value_ondemand);

// Schema-registry decoding (issue 16): one ~200-byte record to JSON text.
void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}
void put_zigzag(std::string& out, int64_t v) {
  put_varint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
void put_avro_string(std::string& out, const std::string& s) {
  put_zigzag(out, static_cast<int64_t>(s.size()));
  out += s;
}

void decode_avro_200b(benchmark::State& state) {
  auto schema = avro_schema::compile(R"({"type":"record","name":"Order","fields":[
    {"name":"id","type":"long"},{"name":"customer","type":"string"},
    {"name":"amount","type":"double"},{"name":"note","type":["null","string"]},
    {"name":"status","type":{"type":"enum","name":"S","symbols":["NEW","PAID"]}},
    {"name":"tags","type":{"type":"array","items":"string"}},
    {"name":"quantity","type":"int"}]})");
  std::string rec;
  put_zigzag(rec, 123456789012);
  put_avro_string(rec, "customer-0042 Jane Q. Example <customer42@example.invalid>");
  double amount = 1234.5;
  rec.append(reinterpret_cast<const char*>(&amount), 8);
  put_zigzag(rec, 1);
  put_avro_string(rec, "leave at the door; ring twice; fragile items inside, handle with care");
  put_zigzag(rec, 1);
  put_zigzag(rec, 3);
  for (auto t : {"express-delivery", "gift-wrapped", "priority-1-tier-gold"})
    put_avro_string(rec, t);
  put_zigzag(rec, 0);
  put_zigzag(rec, 7);
  std::string out;
  for (auto _ : state) {
    out.clear();
    auto ok = schema->to_json(reinterpret_cast<const uint8_t*>(rec.data()), rec.size(), out);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * rec.size()));
  state.SetLabel(std::to_string(rec.size()) + " B in, " + std::to_string(out.size())
                 + " B JSON out");
}
BENCHMARK(decode_avro_200b);

void decode_protobuf_200b(benchmark::State& state) {
  auto schema = protobuf_schema::compile(R"(syntax = "proto3";
    message Order { int64 id = 1; string customer = 2; double amount = 3;
      string note = 4; repeated string tags = 5; int32 quantity = 6; })", {});
  std::string rec;
  rec += '\x08';
  put_varint(rec, 123456789012);
  auto field = [&](char tag, const std::string& s) {
    rec += tag;
    put_varint(rec, s.size());
    rec += s;
  };
  field('\x12', "customer-0042 Jane Q. Example <customer42@example.invalid>");
  rec += '\x19';
  double amount = 1234.5;
  rec.append(reinterpret_cast<const char*>(&amount), 8);
  field('\x22', "leave at the door; ring twice; fragile items inside, handle with care");
  for (auto t : {"express-delivery", "gift-wrapped", "priority-1-tier-gold"})
    field('\x2a', t);
  rec += '\x30';
  put_varint(rec, 7);
  std::string out;
  for (auto _ : state) {
    out.clear();
    auto ok = schema->to_json({0}, reinterpret_cast<const uint8_t*>(rec.data()), rec.size(), out);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * rec.size()));
  state.SetLabel(std::to_string(rec.size()) + " B in, " + std::to_string(out.size())
                 + " B JSON out");
}
BENCHMARK(decode_protobuf_200b);

} // namespace

BENCHMARK_MAIN();
