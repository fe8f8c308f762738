#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "integration/harness.hpp"

using namespace kesm;
using namespace kesm::test;

TEST(retry, retries_the_same_batch_and_commits_nothing_meanwhile) {
  test_cluster cluster;
  cluster.create_topic("flaky", 1);
  cluster.produce("flaky", 0, 50);
  std::atomic<bool> healthy{false};
  scripted_function fn([&](size_t, const invocation&) {
    transport::function_reply r;
    if (!healthy)
      r.status = 500;
    return r;
  });
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "flaky",
                          "\"StartingPosition\":\"TRIM_HORIZON\","
                          "\"BatchSize\":10,"
                          "\"MaximumBatchingWindowInSeconds\":0");
  auto m = run.start(cfg, fn.url());
  ASSERT_TRUE(eventually([&] { return fn.call_count() >= 4; }));
  // Several commit intervals (100 ms) pass while the function fails.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto offs = cluster.offsets(cfg.consumer_group_id, "flaky");
  ASSERT_EQ(offs.size(), 1u);
  EXPECT_EQ(offs[0].committed, -1) << "committed while the batch failed";
  auto failing = fn.calls();
  for (auto& c : failing) {
    ASSERT_EQ(c.records.size(), 10u);
    EXPECT_EQ(c.records.front().offset, 0);
    EXPECT_EQ(c.records.back().offset, 9);
  }
  auto st = run.status(m);
  EXPECT_GE(st.function_errors, 4u);
  EXPECT_EQ(st.last_processing_result.rfind("PROBLEM: function answered HTTP 500", 0), 0u)
    << st.last_processing_result;
  healthy = true;
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 50; }));
  ASSERT_TRUE(eventually(
    [&] { return all_committed(cluster, cfg.consumer_group_id, "flaky"); }));
  // After recovery: the failed batch once more, then the rest in order.
  auto calls = fn.calls();
  std::vector<invocation> good(calls.begin() + static_cast<long>(failing.size()),
                               calls.end());
  EXPECT_EQ(good.front().records.front().offset, 0);
  EXPECT_TRUE(strictly_increasing(good));
}

TEST(retry, retries_when_the_function_is_unreachable) {
  test_cluster cluster;
  cluster.create_topic("nowhere", 1);
  cluster.produce("nowhere", 0, 5);
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "nowhere",
                          "\"StartingPosition\":\"TRIM_HORIZON\","
                          "\"MaximumBatchingWindowInSeconds\":0");
  // Port 9 on loopback: nothing listens there.
  auto m = run.start(cfg, "http://127.0.0.1:9/");
  ASSERT_TRUE(eventually([&] { return run.status(m).function_errors >= 2; }));
  auto st = run.status(m);
  EXPECT_NE(st.last_processing_result.find("function unreachable"),
            std::string::npos)
    << st.last_processing_result;
  auto offs = cluster.offsets(cfg.consumer_group_id, "nowhere");
  EXPECT_EQ(offs.at(0).committed, -1);
}

TEST(problems, an_unreachable_cluster_shows_in_last_processing_result) {
  runner run;
  // Port 1 on loopback: nothing listens there.
  auto cfg = make_mapping("127.0.0.1:1", "nowhere");
  auto m = run.start(cfg, "http://127.0.0.1:9/");
  ASSERT_TRUE(eventually([&] {
    return run.status(m).last_processing_result.rfind(
             "PROBLEM: Connection error", 0)
           == 0;
  })) << run.status(m).last_processing_result;
}

TEST(problems, a_missing_topic_shows_in_last_processing_result) {
  test_cluster cluster;
  // The embedded broker creates any topic a client asks about; make it
  // answer as a broker without the topic does.
  rd_kafka_mock_topic_set_error(cluster.broker().cluster(), "absent",
                                RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "absent");
  auto m = run.start(cfg, "http://127.0.0.1:9/");
  ASSERT_TRUE(eventually([&] {
    return run.status(m).last_processing_result
           == "PROBLEM: Topic not found: absent";
  })) << run.status(m).last_processing_result;
}
