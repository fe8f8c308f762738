// `kesm serve` as a process: stop with calls still running, a second
// signal, SIGHUP reloads, bad Kafka properties, consumer-group identity.
#include <atomic>
#include <chrono>
#include <iostream>
#include <sstream>
#include <thread>

#include <httplib.h>
#include <simdjson.h>
#include <sys/stat.h>

#include "actors/mapping_control.hpp"
#include "actors/mapping_registry.hpp"
#include "cli/runtime.hpp"
#include "integration/child.hpp"
#include "integration/harness.hpp"
#include "transport/http_client.hpp"
#include "transport/log.hpp"

using namespace kesm;
using namespace kesm::test;
using namespace std::chrono_literals;

namespace {

/// A function whose calls hang until `release` (or 60 s).
struct hanging_function {
  std::atomic<bool> release{false};
  scripted_function fn{[this](size_t, const invocation&) {
    auto until = std::chrono::steady_clock::now() + 60s;
    while (!release.load() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(20ms);
    return transport::function_reply{};
  }};
  ~hanging_function() {
    release = true;
  }
};

std::string mapping_json(const std::string& topic, const std::string& group,
                         const std::string& bootstrap,
                         const std::string& fn = "fn") {
  return R"({"FunctionName":")" + fn + R"(","Topics":[")" + topic
         + R"("],"StartingPosition":"TRIM_HORIZON","BatchSize":10,)"
           R"("MaximumBatchingWindowInSeconds":0,)"
           R"("SelfManagedKafkaEventSourceConfig":{"ConsumerGroupId":")"
         + group
         + R"("},"SelfManagedEventSource":{"Endpoints":)"
           R"({"KAFKA_BOOTSTRAP_SERVERS":[")"
         + bootstrap + R"("]}}})";
}

std::string
config_json(const std::string& url, const std::vector<std::string>& mappings,
            const std::string& kafka = R"({"session.timeout.ms":6000})") {
  std::string list;
  for (auto& m : mappings)
    list += (list.empty() ? "" : ",") + m;
  return R"({"kafka":)" + kafka + R"(,"functions":{"fn":{"url":")" + url
         + R"(","timeout_seconds":120}},"mappings":[)" + list + "]}";
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
      .count();
}

} // namespace

TEST(lifecycle, stop_with_a_hanging_call_ends_within_the_grace) {
  test_cluster cluster;
  cluster.create_topic("hang", 1);
  cluster.produce("hang", 0, 30);
  hanging_function fn;
  auto path = write_config(
      "hang.json",
      config_json(fn.fn.url(),
                  {mapping_json("hang", "hang-g", cluster.bootstrap())}));
  auto args = serve_args(path, "hang");
  args.insert(args.end(), {"--shutdown-grace", "2"});
  child serve(args);
  ASSERT_TRUE(eventually([&] { return fn.fn.call_count() >= 1; }));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(serve.stop(SIGTERM), 0);
  auto took = seconds_since(t0);
  EXPECT_LT(took, 2 + 5) << "stop took " << took << " s";
  EXPECT_GE(took, 1.5) << "the grace was not waited for";
  std::cout << "stop took " << took << " s with a 2 s grace\n";
  // The abandoned call's records were not committed: nothing was.
  for (auto& p : cluster.offsets("hang-g", "hang"))
    EXPECT_LE(p.committed, 0) << "committed records of an abandoned call";
}

TEST(lifecycle, a_second_signal_exits_at_once) {
  test_cluster cluster;
  cluster.create_topic("twice", 1);
  cluster.produce("twice", 0, 10);
  hanging_function fn;
  auto path = write_config(
      "twice.json",
      config_json(fn.fn.url(),
                  {mapping_json("twice", "twice-g", cluster.bootstrap())}));
  auto args = serve_args(path, "twice");
  args.insert(args.end(), {"--shutdown-grace", "300"});
  child serve(args);
  ASSERT_TRUE(eventually([&] { return fn.fn.call_count() >= 1; }));
  kill(serve.pid, SIGTERM);
  std::this_thread::sleep_for(500ms); // the first signal starts the stop
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(serve.stop(SIGTERM), 1);
  EXPECT_LT(seconds_since(t0), 2.0);
}

TEST(lifecycle, disable_through_the_api_ends_within_the_grace) {
  test_cluster cluster;
  cluster.create_topic("dis", 1);
  cluster.produce("dis", 0, 10);
  hanging_function fn;
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "dis",
                          "\"StartingPosition\":\"TRIM_HORIZON\","
                          "\"MaximumBatchingWindowInSeconds\":0");
  auto m = run.start(cfg, fn.fn.url(),
                     [](actors::mapping_options& o) { o.shutdown_grace = 1s; });
  ASSERT_TRUE(eventually([&] { return fn.fn.call_count() >= 1; }));
  auto t0 = std::chrono::steady_clock::now();
  run.stop(m);
  auto took = seconds_since(t0);
  EXPECT_LT(took, 1 + 5.0);
  std::cout << "stop took " << took << " s\n";
}

TEST(lifecycle, a_bad_kafka_property_exits_2_naming_it_and_never_its_value) {
  struct bad_case {
    const char* kafka;
    const char* names;
  };
  for (auto c :
       {bad_case{R"({"no.such.prop":"1"})", "no.such.prop"},
        bad_case{R"({"sasl.passwrod":"hunter2-secret"})", "sasl.passwrod"},
        bad_case{R"({"ssl.key.location":"/nonexistent/key.pem",)"
                 R"("security.protocol":"ssl"})",
                 "ssl.key.location"},
        bad_case{R"({"enable.auto.offset.store":"true"})",
                 "enable.auto.offset.store"},
        bad_case{R"({"enable.auto.commit":false})", "enable.auto.commit"},
        bad_case{R"({"group.id":"x"})", "group.id"}}) {
    auto path = write_config("badprop.json",
                             config_json("http://127.0.0.1:1/", {}, c.kafka));
    auto err = ::testing::TempDir() + "badprop.err";
    child serve(serve_args(path, "badprop"), false, err);
    EXPECT_EQ(serve.wait(), 2) << c.kafka;
    auto text = slurp(err);
    EXPECT_NE(text.find(c.names), std::string::npos) << text;
    EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
    EXPECT_LE(std::count(text.begin(), text.end(), '\n'), 2) << text;
  }
}

TEST(lifecycle, mappings_differing_only_in_their_group_all_consume) {
  test_cluster cluster;
  cluster.create_topic("groups", 1);
  cluster.produce("groups", 0, 20);
  scripted_function fn;
  auto b = cluster.bootstrap();
  auto path = write_config(
      "groups.json",
      config_json(fn.url(), {mapping_json("groups", "g-one", b),
                             mapping_json("groups", "g-two", b),
                             mapping_json("groups", "g-three", b)}));
  child serve(serve_args(path, "groups"));
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 60; }))
      << fn.delivered() << " records delivered, 60 wanted (3 groups x 20)";
  for (auto* g : {"g-one", "g-two", "g-three"})
    EXPECT_TRUE(eventually([&] { return all_committed(cluster, g, "groups"); }))
        << g;
  EXPECT_EQ(serve.stop(SIGTERM), 0);
}

TEST(lifecycle, sighup_reloads_the_config_file) {
  test_cluster cluster;
  cluster.create_topic("hup-a", 1);
  cluster.create_topic("hup-b", 1);
  cluster.produce("hup-a", 0, 10);
  cluster.produce("hup-b", 0, 10);
  scripted_function fn;
  auto b = cluster.bootstrap();
  auto path = write_config(
      "hup.json", config_json(fn.url(), {mapping_json("hup-a", "hup-ga", b)}));
  auto err = ::testing::TempDir() + "hup.err";
  child serve(serve_args(path, "hup"), false, err);
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 10; }));
  // Add hup-b, remove hup-a.
  write_config("hup.json",
               config_json(fn.url(), {mapping_json("hup-b", "hup-gb", b)}));
  kill(serve.pid, SIGHUP);
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 20; }));
  ASSERT_TRUE(
      eventually([&] { return all_committed(cluster, "hup-gb", "hup-b"); }));
  // hup-a is gone: its new records are not delivered.
  cluster.produce("hup-a", 0, 5, "after");
  cluster.produce("hup-b", 0, 5, "after");
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 25; }));
  // A broken file changes nothing and does not stop kesm.
  write_config("hup.json", "{not json");
  kill(serve.pid, SIGHUP);
  cluster.produce("hup-b", 0, 5, "later");
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 30; }));
  EXPECT_EQ(serve.stop(SIGTERM), 0);
  EXPECT_EQ(fn.delivered(), 30u) << "a removed mapping still consumed";
  auto text = slurp(err);
  EXPECT_NE(text.find("1 mapping(s) added, 0 changed, 1 removed"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("not reloaded"), std::string::npos) << text;
}

TEST(lifecycle, the_store_file_is_private) {
  auto path = write_config("priv.json", config_json("http://127.0.0.1:1/", {}));
  auto args = serve_args(path, "priv");
  child serve(args);
  auto db = args.back().substr(7);
  ASSERT_TRUE(eventually([&] {
    struct stat sb;
    return stat(db.c_str(), &sb) == 0;
  }));
  struct stat sb;
  ASSERT_EQ(stat(db.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  EXPECT_EQ(serve.stop(SIGTERM), 0);
}

TEST(lifecycle, a_consumer_that_cannot_be_built_backs_off_in_problem) {
  // Properties are checked when the config is loaded; this one gets past
  // that (as a key file deleted while kesm runs would) to show the
  // supervisor failing to build its consumer is retried slowly.
  std::atomic<int> lines{0};
  transport::set_log_tap([&](const std::string& l) {
    if (l.find("no.such.prop") != std::string::npos)
      ++lines;
  });
  actors::registry_options ro;
  auto http = std::make_shared<transport::http_client>();
  ro.functions["fn"] = std::make_shared<transport::http_target>(
      http, "http://127.0.0.1:1/", 5);
  ro.config_mappings.push_back(make_mapping("127.0.0.1:1", "nowhere"));
  ro.defaults.kafka["no.such.prop"] = "1";
  cli::actor_config acfg;
  caf::actor_system sys{acfg};
  auto registry = actors::spawn_registry(sys, std::move(ro));
  std::string result;
  ASSERT_TRUE(eventually([&] {
    auto list = actors::call_registry(
        sys, registry,
        transport::api_request{
            "GET", "/2015-03-31/event-source-mappings/", {}, ""});
    result = list.body;
    return list.body.find("PROBLEM") != std::string::npos;
  })) << result;
  EXPECT_NE(result.find("no.such.prop"), std::string::npos) << result;
  // Attempts at 0, 1, 3 and 7 s: a few lines, not thousands.
  std::this_thread::sleep_for(4s);
  EXPECT_LE(lines.load(), 8);
  EXPECT_GE(lines.load(), 2);
  actors::stop_mappings(sys, {registry});
  transport::set_log_tap(nullptr);
}

TEST(lifecycle, an_abandoned_stop_commits_what_finished_and_nothing_else) {
  test_cluster cluster;
  cluster.create_topic("part", 2);
  cluster.produce("part", 0, 10);
  std::atomic<bool> release{false};
  // Calls holding partition 0 hang; the others answer at once.
  scripted_function fn([&](size_t, const invocation& inv) {
    for (auto& r : inv.records)
      if (r.partition == 0)
        while (!release.load())
          std::this_thread::sleep_for(20ms);
    return transport::function_reply{};
  });
  runner run;
  auto cfg = make_mapping(cluster.bootstrap(), "part",
                          "\"StartingPosition\":\"TRIM_HORIZON\","
                          "\"MaximumBatchingWindowInSeconds\":0,"
                          "\"SelfManagedKafkaEventSourceConfig\":"
                          "{\"ConsumerGroupId\":\"part-g\"}");
  auto m = run.start(cfg, fn.url(),
                     [](actors::mapping_options& o) { o.shutdown_grace = 1s; });
  ASSERT_TRUE(eventually([&] { return fn.call_count() >= 1; }));
  cluster.produce("part", 1, 10); // cut while partition 0 is in flight
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 10; }));
  run.stop(m);
  release = true;
  for (auto& p : cluster.offsets("part-g", "part")) {
    if (p.partition == 0)
      EXPECT_LE(p.committed, 0) << "the abandoned call's records committed";
    else
      EXPECT_EQ(p.committed, 10) << "finished records not committed";
  }
}

TEST(lifecycle, json_logs_are_one_object_a_line) {
  test_cluster cluster;
  cluster.create_topic("jsonlog", 1);
  cluster.produce("jsonlog", 0, 5);
  scripted_function fn;
  auto path = write_config(
    "jsonlog.json",
    config_json(fn.url(), {mapping_json("jsonlog", "g-jsonlog",
                                        cluster.bootstrap())}));
  auto err = ::testing::TempDir() + "jsonlog.err";
  auto args = serve_args(path, "jsonlog");
  args.push_back("--log-format");
  args.push_back("json");
  child serve(args, false, err);
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 5; }));
  EXPECT_EQ(serve.stop(SIGTERM), 0);
  std::istringstream lines(slurp(err));
  std::string line;
  size_t n = 0, with_uuid = 0;
  simdjson::dom::parser parser;
  while (std::getline(lines, line)) {
    simdjson::dom::object obj;
    ASSERT_FALSE(parser.parse(line).get_object().get(obj)) << line;
    std::string_view message;
    EXPECT_FALSE(obj["message"].get(message)) << line;
    with_uuid += obj["uuid"].error() == simdjson::SUCCESS ? 1 : 0;
    ++n;
  }
  EXPECT_GE(n, 5u);
  EXPECT_GE(with_uuid, 1u) << "no line of the mapping";
}

TEST(lifecycle, metrics_show_invocations_batches_ages_and_rebalances) {
  test_cluster cluster;
  cluster.create_topic("metrics", 1);
  cluster.produce("metrics", 0, 20);
  scripted_function fn;
  auto path = write_config(
    "metrics.json",
    config_json(fn.url(), {mapping_json("metrics", "g-metrics",
                                        cluster.bootstrap())}));
  child serve(serve_args(path, "metrics"));
  int port = serve.api_port();
  ASSERT_GT(port, 0);
  httplib::Client api("127.0.0.1", port);
  ASSERT_TRUE(eventually([&] { return fn.delivered() >= 20; }));
  // The value of the first sample of `name` (one mapping: one series).
  auto value = [&](const std::string& name) {
    auto res = api.Get("/metrics");
    if (!res)
      return -1.0;
    auto& text = res->body;
    auto pos = text.find("\n" + name + "{");
    if (pos == std::string::npos)
      return -1.0;
    auto end = text.find('\n', pos + 1);
    auto sample = text.substr(pos + 1, end - pos - 1);
    return std::atof(sample.c_str() + sample.rfind(' ') + 1);
  };
  EXPECT_TRUE(eventually(
    [&] { return value("kesm_batch_size_records_sum") == 20; }))
    << value("kesm_batch_size_records_sum");
  EXPECT_GE(value("kesm_invocation_duration_seconds_count"), 1);
  EXPECT_GE(value("kesm_batch_size_bytes_sum"), 20 * 10);
  EXPECT_GE(value("kesm_record_age_seconds_count"), 1);
  EXPECT_GE(value("kesm_rebalance_count_total"), 1);
  EXPECT_EQ(value("kesm_throttle_count_total"), 0);
  EXPECT_EQ(serve.stop(SIGTERM), 0);
}
