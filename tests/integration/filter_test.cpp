// FilterCriteria end to end: only matching records reach the function, and
// every offset is committed, filtered ones included.
#include <gtest/gtest.h>

#include "integration/harness.hpp"
#include "transport/metrics.hpp"

using namespace kesm;
using namespace kesm::test;

namespace {

void produce_values(test_cluster& c, const std::string& topic,
                    int32_t partition, const std::vector<std::string>& values) {
  auto prod = transport::producer::connect(c.bootstrap());
  ASSERT_TRUE(prod) << prod.err().message;
  for (auto& v : values) {
    transport::outgoing_record r;
    r.topic = topic;
    r.partition = partition;
    r.value = v;
    ASSERT_TRUE(prod->produce(r));
  }
  ASSERT_TRUE(prod->flush());
}

double counter(const std::string& text, const std::string& name) {
  auto at = text.find("\n" + name + "{");
  if (at == std::string::npos)
    return -1;
  auto end = text.find('\n', at + 1);
  auto line = text.substr(at + 1, end - at - 1);
  return std::stod(line.substr(line.rfind(' ') + 1));
}

} // namespace

TEST(filtering, delivers_exactly_the_matching_records_and_commits_all) {
  test_cluster cluster;
  cluster.create_topic("filtered", 3);
  // Partition 0: every third record matches; partition 1: none does (it
  // must still advance); partition 2: plain text and binary values.
  std::vector<std::string> p0, p1;
  for (int i = 0; i < 30; ++i)
    p0.push_back(R"({"kind":")" + std::string(i % 3 == 0 ? "keep" : "drop")
                 + R"(","n":)" + std::to_string(i) + "}");
  for (int i = 0; i < 20; ++i)
    p1.push_back(R"({"kind":"drop","n":)" + std::to_string(i) + "}");
  produce_values(cluster, "filtered", 0, p0);
  produce_values(cluster, "filtered", 1, p1);
  produce_values(cluster, "filtered", 2,
                 {"keep me", "not me", std::string("\xff\xfe", 2),
                  R"({"kind":"keep","n":99})"});
  scripted_function fn;
  runner run;
  auto cfg = make_mapping(
    cluster.bootstrap(), "filtered",
    R"("StartingPosition":"TRIM_HORIZON","BatchSize":4,)"
    R"("MaximumBatchingWindowInSeconds":0,"FilterCriteria":{"Filters":[)"
    R"({"Pattern":"{\"value\":{\"kind\":[\"keep\"]}}"},)"
    R"({"Pattern":"{\"value\":[{\"prefix\":\"keep\"}]}"}]})");
  auto metrics = std::make_shared<transport::metrics>();
  auto m = run.start(cfg, fn.url(),
                     [&](actors::mapping_options& mo) { mo.metrics = metrics; });
  ASSERT_TRUE(eventually(
    [&] { return all_committed(cluster, cfg.consumer_group_id, "filtered"); }));
  std::multiset<std::pair<int32_t, int64_t>> want, got;
  for (int64_t o = 0; o < 30; o += 3)
    want.insert({0, o});
  want.insert({2, 0}); // "keep me"
  want.insert({2, 3}); // {"kind":"keep"}
  for (auto& pos : positions(fn.calls()))
    got.insert(pos);
  EXPECT_EQ(got, want);
  auto offs = cluster.offsets(cfg.consumer_group_id, "filtered");
  ASSERT_EQ(offs.size(), 3u);
  EXPECT_EQ(offs[0].committed, 30);
  EXPECT_EQ(offs[1].committed, 20);
  EXPECT_EQ(offs[2].committed, 4);
  auto text = metrics->render();
  EXPECT_EQ(counter(text, "kesm_polled_event_count_total"), 54) << text;
  EXPECT_EQ(counter(text, "kesm_filtered_out_event_count_total"), 42) << text;
  EXPECT_EQ(counter(text, "kesm_committed_event_count_total"), 12) << text;
  run.stop(m);
}

TEST(filtering, a_live_update_changes_the_filter) {
  test_cluster cluster;
  cluster.create_topic("refilter", 1);
  scripted_function fn;
  runner run;
  auto doc = [](const char* kind) {
    return std::string(R"("StartingPosition":"TRIM_HORIZON",)"
                       R"("MaximumBatchingWindowInSeconds":0,)"
                       R"("FilterCriteria":{"Filters":[{"Pattern":)"
                       R"("{\"value\":{\"kind\":[\")")
           + kind + R"(\"]}}"}]})";
  };
  auto cfg = make_mapping(cluster.bootstrap(), "refilter", doc("a"));
  auto m = run.start(cfg, fn.url());
  produce_values(cluster, "refilter", 0,
                 {R"({"kind":"a"})", R"({"kind":"b"})"});
  ASSERT_TRUE(eventually([&] {
    auto offs = cluster.offsets(cfg.consumer_group_id, "refilter");
    return offs.size() == 1 && offs[0].committed == 2;
  }));
  auto next = make_mapping(cluster.bootstrap(), "refilter", doc("b"));
  next.uuid = cfg.uuid;
  next.consumer_group_id = cfg.consumer_group_id;
  ASSERT_TRUE(run.reconfigure(m, next, fn.url()));
  produce_values(cluster, "refilter", 0,
                 {R"({"kind":"a"})", R"({"kind":"b"})"});
  ASSERT_TRUE(eventually([&] {
    auto offs = cluster.offsets(cfg.consumer_group_id, "refilter");
    return offs.size() == 1 && offs[0].committed == 4;
  }));
  std::vector<std::pair<int32_t, int64_t>> want{{0, 0}, {0, 3}};
  EXPECT_EQ(positions(fn.calls()), want);
}
