#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integration/child.hpp"
#include "integration/harness.hpp"

using namespace kesm;
using namespace kesm::test;

TEST(cli, dev_broker_prints_its_bootstrap_first_and_serves) {
  child broker({"dev-broker", "--topic", "cli-topic:3"});
  auto first = broker.line();
  ASSERT_EQ(first.rfind("127.0.0.1:", 0), 0u) << first;
  auto prod = transport::producer::connect(first);
  ASSERT_TRUE(prod);
  transport::outgoing_record r;
  r.topic = "cli-topic";
  r.partition = 2;
  r.value = "x";
  ASSERT_TRUE(prod->produce(r));
  auto ok = prod->flush(10000);
  EXPECT_TRUE(ok) << ok.err().message;
  EXPECT_EQ(broker.stop(SIGTERM), 0);
}

TEST(cli, dev_broker_serves_tls_and_sasl_with_its_ca_on_line_two) {
  child broker({"dev-broker", "--topic", "sec:1", "--tls", "--sasl",
                "scram-sha-512:alice:s3cret"});
  auto bootstrap = broker.line();
  auto ca = broker.line();
  ASSERT_EQ(bootstrap.rfind("127.0.0.1:", 0), 0u) << bootstrap;
  ASSERT_NE(slurp(ca).find("BEGIN CERTIFICATE"), std::string::npos) << ca;
  auto produce = [&](const std::string& password) {
    child p({"produce", "--bootstrap", bootstrap, "--topic", "sec", "--count",
             "3", "-X", "security.protocol=SASL_SSL", "-X",
             "ssl.ca.location=" + ca, "-X", "sasl.mechanism=SCRAM-SHA-512",
             "-X", "sasl.username=alice", "-X", "sasl.password=" + password,
             "-X", "message.timeout.ms=3000"});
    return p.wait();
  };
  EXPECT_EQ(produce("s3cret"), 0);
  EXPECT_NE(produce("wrong"), 0);
  EXPECT_EQ(broker.stop(SIGTERM), 0);
  EXPECT_TRUE(slurp(ca).empty()) << "the throwaway CA outlived the broker";
  child bad({"dev-broker", "--sasl", "md5:alice"});
  EXPECT_EQ(bad.wait(), 2);
}

TEST(cli, serve_rejects_a_bad_config_with_one_line) {
  auto path = write_config("bad.json", R"({"functions":{},"mappings":[{}]})");
  child serve(serve_args(path, "bad"), false);
  EXPECT_EQ(serve.wait(), 2);
}

TEST(cli, serve_survives_kill_9_without_skipping_a_record) {
  test_cluster cluster;
  cluster.create_topic("crash", 2);
  for (int p = 0; p < 2; ++p)
    cluster.produce("crash", p, 400);
  scripted_function fn;
  auto bootstrap = cluster.bootstrap();
  auto path = write_config(
    "crash.json",
    R"({"kafka":{"session.timeout.ms":6000},"functions":{"fn":{"url":")" + fn.url()
      + R"(","timeout_seconds":5}},"mappings":[{"FunctionName":"fn",)"
        R"("Topics":["crash"],"StartingPosition":"TRIM_HORIZON",)"
        R"("BatchSize":10,"MaximumBatchingWindowInSeconds":0,)"
        R"("SelfManagedKafkaEventSourceConfig":{"ConsumerGroupId":"crash-g"},)"
        R"("SelfManagedEventSource":{"Endpoints":{"KAFKA_BOOTSTRAP_SERVERS":[")"
      + bootstrap + R"("]}}}]})");
  {
    child serve(serve_args(path, "crash"));
    ASSERT_TRUE(eventually([&] { return fn.delivered() >= 150; }));
    EXPECT_EQ(serve.stop(SIGKILL), 128 + SIGKILL);
  }
  auto after_crash = fn.calls().size();
  {
    child serve(serve_args(path, "crash2"));
    ASSERT_TRUE(eventually(
      [&] { return all_committed(cluster, "crash-g", "crash"); }));
    EXPECT_EQ(serve.stop(SIGTERM), 0);
  }
  std::set<std::pair<int32_t, int64_t>> seen;
  for (auto& pos : positions(fn.calls()))
    seen.insert(pos);
  for (int p = 0; p < 2; ++p)
    for (int64_t o = 0; o < 400; ++o)
      EXPECT_TRUE(seen.count({p, o})) << "skipped " << p << "@" << o;
  auto calls = fn.calls();
  std::vector<invocation> second(calls.begin() + static_cast<long>(after_crash),
                                 calls.end());
  EXPECT_TRUE(strictly_increasing(second));
}

TEST(cli, demo_runs_and_commits_everything) {
  child demo({"demo", "--seconds", "3", "--rate", "500"});
  auto text = demo.rest();
  EXPECT_EQ(demo.wait(), 0);
  EXPECT_NE(text.find("t=3s"), std::string::npos) << text;
  EXPECT_NE(text.find("uncommitted after stop: 0"), std::string::npos) << text;
}

TEST(cli, serve_restart_keeps_the_default_group_of_a_config_mapping) {
  test_cluster cluster;
  cluster.create_topic("again", 1);
  cluster.produce("again", 0, 50);
  scripted_function fn;
  // No ConsumerGroupId: the group is the mapping's UUID, which must not
  // change between two starts of the same config file.
  auto path = write_config(
    "again.json",
    R"({"kafka":{"session.timeout.ms":6000},"functions":{"fn":{"url":")"
      + fn.url()
      + R"("}},"mappings":[{"FunctionName":"fn","Topics":["again"],)"
        R"("StartingPosition":"TRIM_HORIZON","MaximumBatchingWindowInSeconds":0,)"
        R"("SelfManagedEventSource":{"Endpoints":{"KAFKA_BOOTSTRAP_SERVERS":[")"
      + cluster.bootstrap() + R"("]}}}]})");
  {
    child serve(serve_args(path, "again"));
    ASSERT_TRUE(eventually([&] { return fn.delivered() >= 50; }));
    EXPECT_EQ(serve.stop(SIGTERM), 0);
  }
  auto first_run = fn.calls().size();
  cluster.produce("again", 0, 20, "late");
  {
    child serve(serve_args(path, "again2"));
    ASSERT_TRUE(eventually([&] { return fn.delivered() >= 70; }));
    EXPECT_EQ(serve.stop(SIGTERM), 0);
  }
  auto calls = fn.calls();
  ASSERT_GT(calls.size(), first_run);
  EXPECT_EQ(calls[first_run].records.front().offset, 50)
    << "the restart read the topic again from the start";
  EXPECT_EQ(positions(calls).size(), 70u);
}
