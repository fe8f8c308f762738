// Failure handling against the embedded broker and a scripted function
// (esm-spec.md section 4). Every test checks the committed offsets and the
// exact multiset of records the function saw.
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <simdjson.h>

#include "integration/harness.hpp"

using namespace kesm;
using namespace kesm::test;

namespace {

using multiset = std::map<std::pair<int32_t, int64_t>, int>;

/// How often the function saw each (partition, offset), over `calls`.
multiset seen(const std::vector<invocation>& calls) {
  multiset m;
  for (auto& [p, o] : positions(calls))
    ++m[{p, o}];
  return m;
}

/// `count` times each offset of partition 0 in [from, to).
void add(multiset& m, int64_t from, int64_t to, int count = 1) {
  for (auto o = from; o < to; ++o)
    m[{0, o}] += count;
}

bool holds(const invocation& call, const std::string& value) {
  for (auto& r : call.records)
    if (r.value == value)
      return true;
  return false;
}

/// Fails (HTTP 500) every call that holds one of `poison`.
scripted_function::script_fn fail_on(std::set<std::string> poison) {
  return [poison](size_t, const invocation& inv) {
    transport::function_reply r;
    for (auto& p : poison)
      if (holds(inv, p))
        r.status = 500;
    return r;
  };
}

int64_t committed(test_cluster& c, const codecs::mapping_config& cfg,
                  const std::string& topic) {
  auto offs = c.offsets(cfg.consumer_group_id, topic);
  return offs.empty() ? -2 : offs[0].committed;
}

/// Settings that make batches deterministic: everything is produced before
/// the mapping starts, batches of 10 are cut full.
const std::string full_batches = "\"StartingPosition\":\"TRIM_HORIZON\","
                                 "\"BatchSize\":10,"
                                 "\"MaximumBatchingWindowInSeconds\":1";

} // namespace

TEST(failures, a_poison_record_ends_as_one_dead_letter) {
  test_cluster cluster;
  cluster.create_topic("poison", 1);
  cluster.create_topic("poison-dlq", 1);
  cluster.produce("poison", 0, 40);
  scripted_function fn(fail_on({"v-0-13"}));
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "poison",
                          full_batches
                            + ",\"BisectBatchOnFunctionError\":true,"
                              "\"MaximumRetryAttempts\":2,"
                              "\"DestinationConfig\":{\"OnFailure\":{"
                              "\"Destination\":\"kafka://poison-dlq\"}}");
  auto m = run.start(cfg, fn.url());
  ASSERT_TRUE(eventually([&] { return committed(cluster, cfg, "poison") == 40; }));
  auto dlq = cluster.read("poison-dlq", 1);
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].key, "k13");
  simdjson::dom::parser p;
  simdjson::dom::element env;
  ASSERT_FALSE(p.parse(*dlq[0].value).get(env)) << *dlq[0].value;
  EXPECT_EQ(std::string_view(env["requestContext"]["condition"]),
            "RetryAttemptsExhausted");
  EXPECT_EQ(std::string_view(env["requestContext"]["functionArn"]),
            "arn:aws:lambda:us-east-1:000000000000:function:fn");
  // [10..19], [10..14], [12..14], [13,14], then [13] three times.
  EXPECT_EQ(int64_t(env["requestContext"]["approximateInvokeCount"]), 7);
  EXPECT_EQ(int64_t(env["responseContext"]["statusCode"]), 500);
  EXPECT_EQ(std::string_view(env["responseContext"]["functionError"]),
            "Unhandled");
  EXPECT_EQ(std::string_view(env["version"]), "1.0");
  EXPECT_EQ(int64_t(env["KafkaBatchInfo"]["batchSize"]), 1);
  EXPECT_EQ(std::string_view(env["KafkaBatchInfo"]["recordInfo"]["offset"]),
            "13");
  EXPECT_EQ(std::string_view(env["KafkaBatchInfo"]["bootstrapServers"]),
            cfg.bootstrap_string());
  auto payload = simdjson::minify(env["payload"]);
  EXPECT_EQ(int64_t(env["KafkaBatchInfo"]["payloadSize"]),
            static_cast<int64_t>(payload.size()));
  auto rec = env["payload"]["records"]["poison-0"].at(0);
  EXPECT_EQ(int64_t(rec["offset"]), 13);
  EXPECT_EQ(std::string_view(rec["value"]), "di0wLTEz");
  // Every other record delivered once; the poison sent 7 times.
  // Calls: [0..9] ok, [10..19] x, [10..14] x, [10,11] ok, [12..14] x,
  // [12] ok, [13,14] x, [13] x3, [14] ok, [15..19] ok, [20..29], [30..39].
  multiset want;
  add(want, 0, 40);
  add(want, 10, 20); // [10..19]
  add(want, 10, 15); // [10..14]
  add(want, 12, 15); // [12..14]
  add(want, 13, 15); // [13,14]
  add(want, 13, 14, 2); // [13] retried twice
  EXPECT_EQ(seen(fn.calls()), want);
  auto st = run.status(m);
  EXPECT_EQ(st.dead_lettered, 1u);
  EXPECT_EQ(st.dropped, 0u);
}

TEST(failures, without_a_destination_the_record_is_dropped_and_counted) {
  test_cluster cluster;
  cluster.create_topic("drop", 1);
  cluster.produce("drop", 0, 20);
  scripted_function fn(fail_on({"v-0-4"}));
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "drop",
                          full_batches
                            + ",\"BisectBatchOnFunctionError\":true,"
                              "\"MaximumRetryAttempts\":0");
  auto m = run.start(cfg, fn.url());
  ASSERT_TRUE(eventually([&] { return committed(cluster, cfg, "drop") == 20; }));
  // [0..9] fails, [0..4] fails, [0,1] ok, [2..4] fails, [2] ok, [3,4]
  // fails, [3] ok, [4] fails (no retry): dropped; [5..9] ok; [10..19] ok.
  multiset want;
  add(want, 0, 20);
  add(want, 0, 10);     // [0..9]
  add(want, 0, 5);      // [0..4]
  add(want, 2, 5);      // [2..4]
  add(want, 3, 5);      // [3,4]
  EXPECT_EQ(seen(fn.calls()), want);
  auto st = run.status(m);
  EXPECT_EQ(st.dropped, 1u);
  EXPECT_EQ(st.dead_lettered, 0u);
}

TEST(failures, unlimited_retries_without_destination_stop_the_partition) {
  test_cluster cluster;
  cluster.create_topic("stuck", 1);
  cluster.produce("stuck", 0, 30);
  scripted_function fn(fail_on({"v-0-13"}));
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "stuck", full_batches);
  auto m = run.start(cfg, fn.url());
  ASSERT_TRUE(eventually([&] { return fn.call_count() >= 8; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(committed(cluster, cfg, "stuck"), 10);
  auto calls = fn.calls();
  multiset want;
  add(want, 0, 10);
  add(want, 10, 20, static_cast<int>(calls.size()) - 1);
  EXPECT_EQ(seen(calls), want) << "only [0..9] once and [10..19] again";
  auto st = run.status(m);
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.batches_in_retry, 1u);
}

TEST(failures, records_past_their_age_are_given_up) {
  test_cluster cluster;
  cluster.create_topic("aged", 1);
  cluster.create_topic("aged-dlq", 1);
  auto old = std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count()
             - 120'000;
  cluster.produce("aged", 0, 10, "old", old);
  cluster.produce("aged", 0, 10, "new");
  // Fails every call holding an old record, forever.
  scripted_function fn([](size_t, const invocation& inv) {
    transport::function_reply r;
    for (auto& rec : inv.records)
      if (rec.value && rec.value->rfind("old", 0) == 0)
        r.status = 502;
    return r;
  });
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "aged",
                          full_batches
                            + ",\"MaximumRecordAgeInSeconds\":60,"
                              "\"DestinationConfig\":{\"OnFailure\":{"
                              "\"Destination\":\"kafka://aged-dlq\"}}");
  auto m = run.start(cfg, fn.url());
  ASSERT_TRUE(eventually([&] { return committed(cluster, cfg, "aged") == 20; }));
  auto dlq = cluster.read("aged-dlq", 10);
  ASSERT_EQ(dlq.size(), 10u);
  std::set<std::string> keys;
  for (auto& d : dlq) {
    simdjson::dom::parser p;
    simdjson::dom::element env;
    ASSERT_FALSE(p.parse(*d.value).get(env));
    EXPECT_EQ(std::string_view(env["requestContext"]["condition"]),
              "RecordAgeExceeded");
    EXPECT_EQ(int64_t(env["requestContext"]["approximateInvokeCount"]), 1);
    EXPECT_EQ(int64_t(env["responseContext"]["statusCode"]), 502);
    keys.insert(*d.key);
  }
  EXPECT_EQ(keys.size(), 10u);
  // The old batch once (then too old to send again), the new one once.
  multiset want;
  add(want, 0, 20);
  EXPECT_EQ(seen(fn.calls()), want);
  EXPECT_EQ(run.status(m).dead_lettered, 10u);
}

TEST(failures, partial_batch_answers_restart_from_the_lowest_failed_offset) {
  test_cluster cluster;
  cluster.create_topic("partial", 1);
  cluster.produce("partial", 0, 20);
  scripted_function fn([](size_t n, const invocation&) {
    transport::function_reply r;
    if (n == 0) // offsets 7 and 5 failed: restart at 5
      r.body = R"({"batchItemFailures":[)"
               R"({"itemIdentifier":{"partition":"partial-0","offset":7}},)"
               R"({"itemIdentifier":{"partition":"partial-0","offset":5}}]})";
    else if (n == 1) // an identifier not in the batch: the whole batch again
      r.body = R"({"batchItemFailures":[)"
               R"({"itemIdentifier":{"partition":"partial-0","offset":99}}]})";
    else
      r.body = R"({"batchItemFailures":[]})";
    return r;
  });
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "partial",
                          full_batches
                            + ",\"FunctionResponseTypes\":"
                              "[\"ReportBatchItemFailures\"]");
  auto m = run.start(cfg, fn.url());
  ASSERT_TRUE(eventually([&] { return committed(cluster, cfg, "partial") == 20; }));
  auto calls = fn.calls();
  ASSERT_GE(calls.size(), 3u);
  EXPECT_EQ(calls[1].records.front().offset, 5);
  EXPECT_EQ(calls[2].records.front().offset, 5);
  multiset want;
  add(want, 0, 20);
  add(want, 5, 10, 2); // [5..9] after the partial answer and after the bad one
  EXPECT_EQ(seen(calls), want);
  auto st = run.status(m);
  EXPECT_EQ(st.function_errors, 2u);
  EXPECT_EQ(st.dropped, 0u);
}

TEST(failures, throttling_storms_use_no_retry_attempts) {
  test_cluster cluster;
  cluster.create_topic("throttled", 1);
  cluster.produce("throttled", 0, 10);
  scripted_function fn([](size_t n, const invocation&) {
    transport::function_reply r;
    if (n < 8)
      r.status = 429;
    return r;
  });
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "throttled",
                          full_batches + ",\"MaximumRetryAttempts\":0");
  auto m = run.start(cfg, fn.url());
  ASSERT_TRUE(eventually([&] { return committed(cluster, cfg, "throttled") == 10; }));
  multiset want;
  add(want, 0, 10, 9);
  EXPECT_EQ(seen(fn.calls()), want);
  auto st = run.status(m);
  EXPECT_EQ(st.throttles, 8u);
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.function_errors, 0u);
}

TEST(failures, an_unwritable_destination_holds_the_source_offset) {
  test_cluster cluster;
  cluster.create_topic("held", 1);
  cluster.create_topic("held-dlq", 1);
  cluster.produce("held", 0, 10, "v");
  // From here on the broker refuses the next 5 produce requests (only the
  // dead-letter producer produces), with a non-retriable error: each is a
  // failed write that kesm must count and write again.
  std::vector<rd_kafka_resp_err_t> errs(
    5, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  rd_kafka_mock_push_request_errors_array(cluster.broker().cluster(),
                                          0 /* Produce */, errs.size(),
                                          errs.data());
  scripted_function fn(fail_on({"v-0-3"}));
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "held",
                          "\"StartingPosition\":\"TRIM_HORIZON\","
                          "\"BatchSize\":5,"
                          "\"MaximumBatchingWindowInSeconds\":1,"
                          "\"MaximumRetryAttempts\":0,"
                          "\"DestinationConfig\":{\"OnFailure\":{"
                          "\"Destination\":\"kafka://held-dlq\"}}");
  auto m = run.start(cfg, fn.url());
  ASSERT_TRUE(eventually([&] { return run.status(m).dead_letter_errors >= 2; }));
  // While the destination refuses, [0..4] is not committed, nor is [5..9]
  // (one batch per partition at a time).
  EXPECT_EQ(committed(cluster, cfg, "held"), -1);
  EXPECT_NE(run.status(m).last_processing_result.find("not written"),
            std::string::npos);
  ASSERT_TRUE(eventually([&] { return committed(cluster, cfg, "held") == 10; }));
  // Writes that timed out locally may still have landed: duplicates are
  // allowed (at-least-once), a missing record is not.
  auto dlq = cluster.read("held-dlq", 1000, std::chrono::milliseconds(3000));
  std::set<std::string> keys;
  for (auto& d : dlq)
    keys.insert(*d.key);
  EXPECT_EQ(keys, (std::set<std::string>{"k0", "k1", "k2", "k3", "k4"}))
    << dlq.size() << " dead letters read";
  multiset want;
  add(want, 0, 10);
  EXPECT_EQ(seen(fn.calls()), want);
  EXPECT_EQ(run.status(m).dead_lettered, 5u);
  EXPECT_GE(run.status(m).dead_letter_errors, 5u);
}

TEST(failures, a_record_too_big_for_any_event_goes_to_the_destination) {
  test_cluster cluster;
  cluster.create_topic("big", 1);
  cluster.create_topic("big-dlq", 1);
  cluster.produce("big", 0, 3);
  {
    auto prod = transport::producer::connect(cluster.bootstrap());
    ASSERT_TRUE(prod);
    transport::outgoing_record r;
    r.topic = "big";
    r.partition = 0;
    r.key = "huge";
    r.value = std::string(100 * 1024, 'x');
    ASSERT_TRUE(prod->produce(r));
    ASSERT_TRUE(prod->flush());
  }
  cluster.produce("big", 0, 3, "after");
  scripted_function fn;
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "big",
                          "\"StartingPosition\":\"TRIM_HORIZON\","
                          "\"MaximumBatchingWindowInSeconds\":1,"
                          "\"DestinationConfig\":{\"OnFailure\":{"
                          "\"Destination\":\"kafka://big-dlq\"}}");
  // A 64 KB payload limit stands in for Lambda's 6 MB: same code path.
  auto m = run.start(cfg, fn.url(),
                     [](actors::mapping_options& mo) { mo.max_payload = 65536; });
  ASSERT_TRUE(eventually([&] { return committed(cluster, cfg, "big") == 7; }));
  auto dlq = cluster.read("big-dlq", 1);
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].key, "huge");
  simdjson::dom::parser p;
  simdjson::dom::element env;
  ASSERT_FALSE(p.parse(*dlq[0].value).get(env));
  EXPECT_EQ(std::string_view(env["requestContext"]["condition"]),
            "MaximumPayloadSizeExceeded");
  EXPECT_TRUE(env["responseContext"].is_null());
  EXPECT_EQ(std::string_view(env["KafkaBatchInfo"]["recordInfo"]["offset"]),
            "3");
  // The function never saw offset 3; everything else once.
  multiset want;
  add(want, 0, 3);
  add(want, 4, 7);
  EXPECT_EQ(seen(fn.calls()), want);
  auto st = run.status(m);
  EXPECT_EQ(st.dead_lettered, 1u);
}

TEST(failures, long_retries_keep_the_consumer_in_its_group) {
  test_cluster cluster;
  cluster.create_topic("patient", 2);
  cluster.produce("patient", 0, 5);
  cluster.produce("patient", 1, 5);
  auto start = std::chrono::steady_clock::now();
  // Fails for 9 s, longer than the poll interval and session timeout.
  scripted_function fn([start](size_t, const invocation&) {
    transport::function_reply r;
    if (std::chrono::steady_clock::now() - start < std::chrono::seconds(9))
      r.status = 500;
    return r;
  });
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "patient",
                          "\"StartingPosition\":\"TRIM_HORIZON\","
                          "\"MaximumBatchingWindowInSeconds\":0");
  auto m = run.start(cfg, fn.url(), [](actors::mapping_options& mo) {
    mo.kafka["max.poll.interval.ms"] = "6001";
    mo.retry_backoff.cap = std::chrono::milliseconds(2000);
  });
  ASSERT_TRUE(eventually(
    [&] {
      auto offs = cluster.offsets(cfg.consumer_group_id, "patient");
      return offs.size() == 2 && offs[0].committed == 5
             && offs[1].committed == 5;
    },
    std::chrono::seconds(40)));
  auto st = run.status(m);
  EXPECT_EQ(st.revocations, 0u) << "the consumer left its group while retrying";
  EXPECT_EQ(st.assigned.size(), 2u);
  EXPECT_GE(st.function_errors, 4u);
  // Each record in every failed call and once in the successful one.
  auto calls = fn.calls();
  multiset ok;
  for (auto& c : calls)
    for (auto& r : c.records)
      ++ok[{r.partition, r.offset}];
  for (int32_t part : {0, 1})
    for (int64_t o = 0; o < 5; ++o)
      EXPECT_GE((ok[{part, o}]), 2) << part << "@" << o;
  EXPECT_EQ(fn.delivered(), 10u);
}
