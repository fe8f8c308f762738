#include "bench/runs.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include <unistd.h>

#include <simdjson.h>

#include "actors/mapping_control.hpp"
#include "codecs/base64.hpp"
#include "transport/inprocess_target.hpp"
#include "transport/offset_inspector.hpp"
#include "transport/producer.hpp"

namespace kesm::bench {

namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

codecs::mapping_config bench_mapping(const std::string& bootstrap,
                                     const std::string& topic,
                                     int batch_size) {
  auto first = bootstrap.substr(0, bootstrap.find(','));
  auto doc = "{\"FunctionName\":\"bench\",\"Topics\":[\"" + topic
             + "\"],\"StartingPosition\":\"TRIM_HORIZON\",\"BatchSize\":"
             + std::to_string(batch_size)
             + ",\"MaximumBatchingWindowInSeconds\":0,"
               "\"SelfManagedEventSource\":{\"Endpoints\":{"
               "\"KAFKA_BOOTSTRAP_SERVERS\":[\""
             + first + "\"]}}}";
  return *codecs::parse_mapping(doc, {}, "", wall_ms());
}

/// CPU seconds process `pid` used since it had used `before` (0 if either
/// reading failed).
double cpu_since(pid_t pid, double before) {
  if (before < 0)
    return 0;
  double now = process_cpu_seconds(pid);
  return now >= before ? now - before : 0;
}

/// Waits (60 s at most) until `m` owns all `partitions`.
void wait_assigned(caf::actor_system& sys, const caf::actor& m,
                   int partitions) {
  auto deadline = now_seconds() + 60;
  while (actors::query_status(sys, m).assigned.size()
           < static_cast<size_t>(partitions)
         && now_seconds() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

} // namespace

uint64_t loaded_bytes(const dataset& ds) {
  uint64_t total = 0;
  for (uint64_t i = 0; i < ds.records; ++i)
    total += 4 + std::to_string(i).size() + ds.value_bytes + 6 + 16;
  return total;
}

bool load(dataset& ds) {
  auto prod = transport::producer::connect(
    ds.bootstrap, {{"linger.ms", "20"}, {"batch.num.messages", "10000"}});
  if (!prod)
    return false;
  std::string value(ds.value_bytes, 'v');
  static const bool tty = ::isatty(STDERR_FILENO) == 1;
  auto busy = ds.loaded_partitions();
  transport::outgoing_record r;
  r.topic = ds.topic;
  r.headers = {{"source", "kesm-bench"}, {"trace", "0123456789abcdef"}};
  for (uint64_t i = 0; i < ds.records; ++i) {
    r.partition = static_cast<int32_t>(i % static_cast<uint64_t>(busy));
    r.key = "key-" + std::to_string(i);
    char seq[24];
    auto len = std::snprintf(seq, sizeof(seq), "%011llu",
                             static_cast<unsigned long long>(i));
    std::memcpy(value.data(), seq,
                std::min(value.size(), static_cast<size_t>(len)));
    r.value = value;
    if (!prod->produce(r))
      return false;
    if (i % 20000 == 0) {
      // Progress in place on a terminal; a log or a file gets only the
      // "loaded" line (92 updates a copy at 64 partitions were one
      // 5 KB line there).
      if (tty)
        std::fprintf(stderr, "\rloading %s: %llu/%llu records",
                     ds.topic.c_str(), static_cast<unsigned long long>(i),
                     static_cast<unsigned long long>(ds.records));
      prod->poll();
    }
  }
  bool ok = static_cast<bool>(prod->flush(60000));
  // On a terminal, 20 spaces clear what the progress line left.
  std::fprintf(stderr, "%sloaded %s: %llu records%*s\n", tty ? "\r" : "",
               ds.topic.c_str(), static_cast<unsigned long long>(ds.records),
               tty ? 20 : 0, "");
  return ok;
}

run_result run_raw(const dataset& ds) {
  run_result res;
  res.name = "raw";
  res.value_bytes = ds.value_bytes;
  transport::kafka_props props{{"bootstrap.servers", ds.bootstrap},
                               {"group.id", "raw-" + codecs::make_uuid()},
                               {"enable.auto.commit", "false"},
                               {"enable.partition.eof", "false"},
                               {"fetch.wait.max.ms", actors::fetch_wait_ms},
                               {"log_level", "3"}};
  // Experiments: any librdkafka property of the raw consumer,
  // "name=value,name=value" (KESM_KAFKA_PROPS is kesm's).
  if (const char* v = std::getenv("KESM_RAW_KAFKA_PROPS"))
    for (auto& [name, value] : name_values(v, ','))
      props[name] = value;
  auto rk = transport::make_client(RD_KAFKA_CONSUMER, props);
  if (!rk)
    return res;
  reset_peak_rss();
  auto use0 = usage_now();
  double br0 = process_cpu_seconds(ds.broker_pid);
  auto t0 = now_seconds();
  transport::tpl_ptr list{rd_kafka_topic_partition_list_new(ds.partitions)};
  for (int p = 0; p < ds.partitions; ++p)
    rd_kafka_topic_partition_list_add(list.get(), ds.topic.c_str(), p)->offset
      = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk->get(), list.get());
  uint64_t sum = 0;
  // Batches of up to 1,000 from the consumer queue: the cheapest way
  // librdkafka offers to take records (one lock and wake-up per batch).
  transport::queue_ptr q{rd_kafka_queue_get_consumer(rk->get())};
  std::vector<rd_kafka_message_t*> msgs(1000);
  double first = 0;
  while (res.records < ds.records && now_seconds() - t0 < 600) {
    auto n = rd_kafka_consume_batch_queue(q.get(), 100, msgs.data(),
                                          msgs.size());
    if (n > 0 && first == 0)
      first = now_seconds();
    for (ssize_t i = 0; i < n; ++i) {
      auto* msg = msgs[static_cast<size_t>(i)];
      if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++res.records;
        if (msg->len > 0)
          sum += static_cast<const uint8_t*>(msg->payload)[msg->len - 1];
        res.bytes += msg->len + msg->key_len + 22;
      }
      rd_kafka_message_destroy(msg);
    }
  }
  q.reset();
  res.seconds = now_seconds() - first;
  res.startup = first - t0;
  res.set_usage(use0, usage_now());
  res.broker_cpu = cpu_since(ds.broker_pid, br0);
  res.rss_mb = peak_rss_mb();
  rd_kafka_consumer_close(rk->get());
  if (sum == 42) // keep the payload touch from being optimized away
    std::fprintf(stderr, " ");
  return res;
}

run_result run_kesm(caf::actor_system& sys, const dataset& ds,
                    const std::string& name,
                    transport::function_target_ptr target, size_t pollers,
                    pid_t function_pid) {
  run_result res;
  res.name = name;
  res.value_bytes = ds.value_bytes;
  actors::mapping_options mo;
  mo.config = bench_mapping(ds.bootstrap, ds.topic, 1000);
  mo.target = std::move(target);
  mo.pollers = pollers;
  // Experiments: librdkafka's pre-fetch per partition.
  if (const char* v = std::getenv("KESM_PREFETCH_MESSAGES"))
    mo.prefetch_messages = std::atoi(v);
  if (const char* v = std::getenv("KESM_PREFETCH_KBYTES"))
    mo.prefetch_kbytes = std::atoi(v);
  if (const char* v = std::getenv("KESM_READER_BUDGET_KB"))
    mo.reader_budget = static_cast<size_t>(std::atoi(v)) * 1024;
  if (const char* v = std::getenv("KESM_READER_FLOOR_KB"))
    mo.reader_floor = static_cast<size_t>(std::atoi(v)) * 1024;
  if (const char* v = std::getenv("KESM_KICK_MS"))
    mo.reader.kick_after = std::chrono::milliseconds{std::atoi(v)};
  // Experiments: any librdkafka consumer property, "name=value,name=value".
  if (const char* v = std::getenv("KESM_KAFKA_PROPS"))
    for (auto& [name, value] : name_values(v, ','))
      mo.kafka[name] = value;
  auto group = mo.config.consumer_group_id;
  // Counted, as `kesm run` counts: the bench watches progress through the
  // committed-records counter (an atomic read) rather than a status
  // request to the supervisor, which at 10 ms was 6 % of the samples of a
  // 64-partition run, all of it counted as kesm's CPU.
  mo.metrics = std::make_shared<transport::metrics>();
  auto* committed = mo.metrics->add(mo.config.uuid, mo.config.topic).committed;
  auto m = actors::spawn_mapping(sys, std::move(mo));
  // The embedded broker delays a group's first join by 3 s: not counted.
  wait_assigned(sys, m, ds.partitions);
  reset_peak_rss();
  auto use0 = usage_now();
  double fn0 = process_cpu_seconds(function_pid);
  double br0 = process_cpu_seconds(ds.broker_pid);
  auto t0 = now_seconds();
  actors::mapping_status st;
  double first = 0;
  uint64_t last_done = 0;
  double last_change = now_seconds();
  int stuck_reports = 0;
  while (now_seconds() - t0 < 600) {
    auto done = static_cast<uint64_t>(committed->Value());
    if (first == 0 && done > 0)
      first = now_seconds();
    if (done >= ds.records)
      break;
    if (done != last_done) {
      last_done = done;
      last_change = now_seconds();
    } else if (now_seconds() - last_change > 10) {
      st = actors::query_status(sys, m);
      // Stuck: say where (a run that never ends shows nothing otherwise).
      std::string lag;
      for (auto& [p, l] : st.partition_lag)
        if (l > 0)
          lag += " " + std::to_string(p) + ":" + std::to_string(l);
      std::fprintf(stderr,
                   "%s: no progress for 10 s: %llu of %llu records done, "
                   "%llu polled, %llu fetch restarts, %zu partitions assigned,"
                   " %llu revocations, %s, %s, lag%s\n",
                   name.c_str(),
                   static_cast<unsigned long long>(st.completed_records),
                   static_cast<unsigned long long>(ds.records),
                   static_cast<unsigned long long>(st.polled_records),
                   static_cast<unsigned long long>(st.fetch_kicks),
                   st.assigned.size(),
                   static_cast<unsigned long long>(st.revocations),
                   st.state.c_str(), st.last_processing_result.c_str(),
                   lag.empty() ? " none" : lag.c_str());
      if (++stuck_reports == 6)
        break; // a minute without progress: the run does not count
      last_change = now_seconds();
    }
    // Every 5 ms: a counter read, no message to the mapping.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // The window ends with the last record done, as the raw run's ends with
  // its last record (its consumer's close is not counted either); the stop
  // (a synchronous commit, the consumer's close) is reported apart.
  auto t1 = now_seconds();
  res.set_usage(use0, usage_now());
  res.function_cpu = cpu_since(function_pid, fn0);
  res.broker_cpu = cpu_since(ds.broker_pid, br0);
  res.rss_mb = peak_rss_mb();
  st = actors::query_status(sys, m);
  actors::stop_mappings(sys, {m}); // commits synchronously
  res.stop_seconds = now_seconds() - t1;
  res.seconds = t1 - first;
  res.startup = first - t0;
  res.records = st.completed_records;
  res.bytes = ds.bytes * res.records / std::max<uint64_t>(ds.records, 1);
  res.invocations = st.invocations;
  res.kicks = st.fetch_kicks;
  if (st.completed_records < ds.records) {
    std::fprintf(stderr, "%s: %llu of %llu records done\n", name.c_str(),
                 static_cast<unsigned long long>(st.completed_records),
                 static_cast<unsigned long long>(ds.records));
    res.records = 0; // lost or stuck: the run does not count
  }
  auto insp = transport::offset_inspector::connect(ds.bootstrap, group);
  if (insp) {
    auto offs = insp->query(ds.topic);
    if (offs)
      for (auto& p : *offs)
        // An empty partition (--busy-partitions) has nothing to commit.
        if (p.committed != p.high && !(p.committed < 0 && p.high == 0)) {
          std::fprintf(stderr, "%s: partition %d committed %lld of %lld\n",
                       name.c_str(), p.partition,
                       static_cast<long long>(p.committed),
                       static_cast<long long>(p.high));
          res.records = 0; // not all committed: the run does not count
        }
  }
  return res;
}

scaling_result run_scaling(caf::actor_system& sys, const dataset& ds,
                           int delay_ms, bool one_poller,
                           std::chrono::milliseconds interval) {
  scaling_result res;
  res.name = one_poller ? "1 poller" : "on demand";
  actors::mapping_options mo;
  mo.config = bench_mapping(ds.bootstrap, ds.topic, 20);
  if (one_poller) {
    mo.config.provisioned = true;
    mo.config.min_pollers = mo.config.max_pollers = 1;
  }
  mo.scaling_interval = interval;
  auto delay = std::chrono::milliseconds(delay_ms);
  mo.target = std::make_shared<transport::inprocess_target>(
    "slow",
    [delay](const std::string&) {
      std::this_thread::sleep_for(delay);
      transport::invocation_result r;
      r.status = 200;
      return r;
    },
    128);
  auto m = actors::spawn_mapping(sys, std::move(mo));
  wait_assigned(sys, m, ds.partitions);
  double first = 0, last_rise = 0;
  actors::mapping_status st;
  auto t0 = now_seconds();
  while (now_seconds() - t0 < 900) {
    st = actors::query_status(sys, m);
    if (first == 0 && st.completed_records > 0)
      first = now_seconds();
    if (st.pollers > res.peak_pollers) {
      res.peak_pollers = st.pollers;
      last_rise = now_seconds();
    }
    if (st.completed_records >= ds.records)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  res.drain_seconds = now_seconds() - first;
  res.steady_seconds = std::max(0.0, last_rise - first);
  res.records = st.completed_records;
  actors::stop_mappings(sys, {m});
  return res;
}

namespace {

/// Produces `rate` records/s for `seconds`, each value starting with its
/// send time (steady ns, 20 digits), keys spread over the partitions.
void produce_timed(const std::string& bootstrap, const std::string& topic,
                   int partitions, int rate, int seconds) {
  // linger 1 ms: the producer does not send one request per record.
  auto prod = transport::producer::connect(bootstrap, {{"linger.ms", "1"}});
  if (!prod)
    return;
  transport::outgoing_record r;
  r.topic = topic;
  // Warm-up (metadata, producer id, connections); its value is not a
  // timestamp, so the consumers skip it.
  r.value = std::string("warm-up");
  for (int p = 0; p < partitions; ++p) {
    r.partition = p;
    (void) prod->produce(r);
  }
  (void) prod->flush(10000);
  r.partition = -1;
  auto t0 = std::chrono::steady_clock::now();
  uint64_t sent = 0;
  uint64_t total = static_cast<uint64_t>(rate) * static_cast<uint64_t>(seconds);
  while (sent < total) {
    auto due = static_cast<uint64_t>(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
        .count()
      * rate);
    for (; sent < std::min(due, total); ++sent) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%020lld",
                    static_cast<long long>(steady_ns()));
      r.value = std::string(buf) + std::string(80, 'x');
      r.key = "device-" + std::to_string(sent % 1000);
      (void) prod->produce(r);
    }
    prod->poll();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  (void) prod->flush(10000);
}

/// Milliseconds from the send time in `value` to `now`, or -1.
double latency_of(const void* value, size_t len, int64_t now) {
  if (len < 20)
    return -1;
  auto s = static_cast<const char*>(value);
  int64_t sent = 0;
  for (size_t i = 0; i < 20; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    sent = sent * 10 + (s[i] - '0');
  }
  return static_cast<double>(now - sent) / 1e6;
}

latency_result percentiles(std::vector<double>& samples, int rate) {
  latency_result res;
  res.rate = rate;
  std::sort(samples.begin(), samples.end());
  res.samples = samples.size();
  if (samples.empty())
    return res;
  auto pct = [&](double q) {
    return samples[static_cast<size_t>(q * static_cast<double>(samples.size() - 1))];
  };
  res.p50 = pct(0.5);
  res.p99 = pct(0.99);
  res.p999 = pct(0.999);
  res.max = samples.back();
  return res;
}

const char* fetch_wait() {
  // The embedded broker holds an empty fetch for the whole wait, so this
  // sets the floor of both latency runs alike.
  const char* env = std::getenv("KESM_FETCH_WAIT");
  return env != nullptr ? env : "5";
}

} // namespace

latency_result run_raw_latency(const std::string& bootstrap,
                               const std::string& topic, int partitions,
                               int rate, int seconds) {
  std::vector<double> samples;
  auto rk = transport::make_client(
    RD_KAFKA_CONSUMER,
    transport::kafka_props{{"bootstrap.servers", bootstrap},
                           {"group.id", "raw-lat-" + codecs::make_uuid()},
                           {"enable.auto.commit", "false"},
                           {"fetch.wait.max.ms", fetch_wait()},
                           {"log_level", "3"}});
  if (!rk)
    return {};
  transport::tpl_ptr list{rd_kafka_topic_partition_list_new(partitions)};
  // The current ends, resolved before the producer starts: nothing missed.
  for (int p = 0; p < partitions; ++p) {
    int64_t lo = 0, hi = 0;
    rd_kafka_query_watermark_offsets(rk->get(), topic.c_str(), p, &lo, &hi,
                                     10000);
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset
      = hi;
  }
  rd_kafka_assign(rk->get(), list.get());
  std::atomic<bool> done{false};
  std::thread producer([&] {
    produce_timed(bootstrap, topic, partitions, rate, seconds);
    done = true;
  });
  uint64_t total = static_cast<uint64_t>(rate) * static_cast<uint64_t>(seconds);
  auto deadline = now_seconds() + seconds + 30;
  while (samples.size() < total && now_seconds() < deadline) {
    auto* msg = rd_kafka_consumer_poll(rk->get(), 100);
    if (msg == nullptr)
      continue;
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      auto l = latency_of(msg->payload, msg->len, steady_ns());
      if (l >= 0)
        samples.push_back(l);
    }
    rd_kafka_message_destroy(msg);
  }
  producer.join();
  rd_kafka_consumer_close(rk->get());
  return percentiles(samples, rate);
}

latency_result run_latency(caf::actor_system& sys, const std::string& bootstrap,
                           const std::string& topic, int partitions, int rate,
                           int seconds) {
  std::mutex mtx;
  std::vector<double> samples;
  samples.reserve(static_cast<size_t>(rate) * static_cast<size_t>(seconds));
  auto target = std::make_shared<transport::inprocess_target>(
    "latency", [&](const std::string& event) {
      auto now = steady_ns();
      thread_local simdjson::dom::parser parser;
      thread_local std::string raw;
      simdjson::dom::object records;
      transport::invocation_result r;
      r.status = 200;
      if (parser.parse(event).get_object()["records"].get(records))
        return r;
      std::vector<double> local;
      for (auto [key, list] : records)
        for (auto rec : simdjson::dom::array(list)) {
          std::string_view v;
          if (rec["value"].get_string().get(v)
              || !codecs::base64_decode(v.data(), v.size(), raw))
            continue;
          auto l = latency_of(raw.data(), raw.size(), now);
          if (l >= 0)
            local.push_back(l);
        }
      std::lock_guard<std::mutex> guard{mtx};
      samples.insert(samples.end(), local.begin(), local.end());
      return r;
    });
  actors::mapping_options mo;
  mo.config = bench_mapping(bootstrap, topic, 1000);
  mo.target = target;
  mo.kafka["fetch.wait.max.ms"] = fetch_wait();
  // LATEST: only what is produced from now on.
  mo.config.start = codecs::starting_position::latest;
  auto m = actors::spawn_mapping(sys, std::move(mo));
  while (actors::query_status(sys, m).assigned.size() < static_cast<size_t>(partitions))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  produce_timed(bootstrap, topic, partitions, rate, seconds);
  uint64_t total = static_cast<uint64_t>(rate) * static_cast<uint64_t>(seconds);
  auto deadline = now_seconds() + 30;
  while (now_seconds() < deadline) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (samples.size() >= total)
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  actors::stop_mappings(sys, {m});
  std::lock_guard<std::mutex> guard{mtx};
  return percentiles(samples, rate);
}

} // namespace kesm::bench
