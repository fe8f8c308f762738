#include "actors/invoker.hpp"

#include <gtest/gtest.h>

#include <caf/scheduler/test_coordinator.hpp>

using namespace kesm;
using namespace kesm::actors;

namespace {

/// A target that holds every call until the test completes it.
struct held_target : transport::function_target {
  std::vector<transport::invocation_callback> calls;
  void invoke(std::shared_ptr<const std::string>,
              transport::invocation_callback done) override {
    calls.push_back(std::move(done));
  }
  std::string describe() const override {
    return "held";
  }
};

transport::invocation_result status(int code) {
  transport::invocation_result r;
  r.status = code;
  return r;
}

} // namespace

TEST(invoker, classifies_answers_as_lambda_does) {
  EXPECT_EQ(classify(status(200)).kind, outcome_kind::success);
  EXPECT_EQ(classify(status(204)).kind, outcome_kind::success);
  EXPECT_EQ(classify(status(429)).kind, outcome_kind::throttled);
  EXPECT_EQ(classify(status(500)).kind, outcome_kind::function_error);
  EXPECT_EQ(classify(status(404)).kind, outcome_kind::function_error);
  auto err = status(200);
  err.function_error = true;
  EXPECT_EQ(classify(err).kind, outcome_kind::function_error);
  auto down = status(0);
  down.error = "Connection refused";
  EXPECT_EQ(classify(down).kind, outcome_kind::function_error);
  EXPECT_NE(classify(down).detail.find("Connection refused"),
            std::string::npos);
  auto slow = status(0);
  slow.timed_out = true;
  EXPECT_EQ(classify(slow).detail, "function timed out");
}

namespace {

/// A batch of topic `t`: partition 0 offsets 10..12, partition 3 offset 7.
batch two_partition_batch() {
  batch b;
  auto c = std::make_shared<transport::record_chunk>();
  c->topic = "t";
  b.chunks.push_back(c);
  for (int64_t o : {10, 11, 12}) {
    codecs::record_view r;
    r.offset = o;
    b.records.push_back(r);
  }
  codecs::record_view r;
  r.offset = 7;
  b.records.push_back(r);
  b.parts.push_back(batch_part{0, 1, 10, 12, 3, 0});
  b.parts.push_back(batch_part{3, 1, 7, 7, 1, 0});
  return b;
}

outcome answer(const std::string& body) {
  static auto b = two_partition_batch();
  codecs::response_parser parser;
  auto res = status(200);
  res.body = body;
  return classify(res, &parser, &b);
}

} // namespace

TEST(invoker, reads_partial_batch_answers) {
  // Empty, {}, null and an empty list: the whole batch succeeded.
  for (auto body : {"", "{}", "null", "{\"batchItemFailures\":[]}",
                    "{\"batchItemFailures\":null}"})
    EXPECT_EQ(answer(body).kind, outcome_kind::success) << body;
  // Lowest failed offset per partition is the restart point.
  auto o = answer(R"({"batchItemFailures":[)"
                  R"({"itemIdentifier":{"partition":"t-0","offset":12}},)"
                  R"({"itemIdentifier":{"partition":"t-0","offset":11}},)"
                  R"({"itemIdentifier":{"partition":"t-3","offset":"7"}}]})");
  ASSERT_EQ(o.kind, outcome_kind::partial) << o.detail;
  ASSERT_EQ(o.restart.size(), 2u);
  EXPECT_EQ(o.restart[0], (std::pair<int32_t, int64_t>{0, 11}));
  EXPECT_EQ(o.restart[1], (std::pair<int32_t, int64_t>{3, 7}));
  // Identifiers not in the batch, or malformed answers: the whole batch.
  for (auto body :
       {R"({"batchItemFailures":[{"itemIdentifier":{"partition":"t-0","offset":9}}]})",
        R"({"batchItemFailures":[{"itemIdentifier":{"partition":"t-1","offset":10}}]})",
        R"({"batchItemFailures":[{"itemIdentifier":{"partition":"u-0","offset":10}}]})",
        R"({"batchItemFailures":[{"itemIdentifier":{"partition":"t0","offset":10}}]})",
        R"({"batchItemFailures":[{"itemIdentifier":{"offset":10}}]})",
        R"({"batchItemFailures":"all"})", "not json", "[1]"}) {
    auto bad = answer(body);
    EXPECT_EQ(bad.kind, outcome_kind::function_error) << body;
    EXPECT_NE(bad.detail.find("invalid batchItemFailures"), std::string::npos)
      << bad.detail;
    EXPECT_TRUE(bad.restart.empty());
  }
  // Without ReportBatchItemFailures the body is not read.
  auto res = status(200);
  res.body = "garbage";
  EXPECT_EQ(classify(res).kind, outcome_kind::success);
}

TEST(invoker, runs_at_most_five_calls_at_once) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("testing"));
  caf::actor_system sys{cfg};
  auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  auto outcomes = std::make_shared<std::vector<outcome_kind>>();
  auto sup = sys.spawn([outcomes](caf::event_based_actor*) -> caf::behavior {
    return {[outcomes](outcome_atom, const batch_ptr&, const outcome& o) {
      outcomes->push_back(o.kind);
    }};
  });
  auto target = std::make_shared<held_target>();
  auto uut = sys.spawn(invoker, invoker_config{target, 5, false, codecs::max_payload_bytes}, sup);
  for (int i = 0; i < 7; ++i) {
    auto b = std::make_shared<batch>();
    b->payload = std::make_shared<std::string>("{}");
    caf::anon_send(uut, batch_ptr{b});
  }
  sched.run();
  ASSERT_EQ(target->calls.size(), 5u);
  target->calls[0](status(200));
  target->calls[1](status(429));
  sched.run();
  ASSERT_EQ(target->calls.size(), 7u);
  ASSERT_EQ(outcomes->size(), 2u);
  EXPECT_EQ(outcomes->at(0), outcome_kind::success);
  EXPECT_EQ(outcomes->at(1), outcome_kind::throttled);
  caf::anon_send_exit(uut, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  sched.run();
}

TEST(invoker, lambda_api_answers_map_to_their_paths) {
  // kesm's access refused: waits like a throttle, with the AWS error.
  auto denied = status(403);
  denied.access_denied = true;
  denied.error = "Lambda Invoke: AccessDeniedException: not authorized";
  EXPECT_EQ(classify(denied).kind, outcome_kind::throttled);
  EXPECT_EQ(classify(denied).detail, denied.error);
  auto no_creds = status(0);
  no_creds.access_denied = true;
  no_creds.error = "no AWS credentials";
  EXPECT_EQ(classify(no_creds).kind, outcome_kind::throttled);
  // A throttle keeps its Retry-After.
  auto slow = status(429);
  slow.retry_after_ms = 2000;
  slow.error_type = "TooManyRequestsException";
  EXPECT_EQ(classify(slow).retry_after_ms, 2000);
  EXPECT_NE(classify(slow).detail.find("TooManyRequestsException"),
            std::string::npos);
  // 413: one record is the oversize path; several are a function error.
  batch one;
  one.records.resize(1);
  batch four = two_partition_batch();
  EXPECT_EQ(classify(status(413), nullptr, &one).kind,
            outcome_kind::too_large);
  EXPECT_EQ(classify(status(413), nullptr, &four).kind,
            outcome_kind::function_error);
  // The function's error type and version reach the outcome.
  auto handled = status(200);
  handled.function_error = true;
  handled.function_error_type = "Handled";
  handled.executed_version = "7";
  auto out = classify(handled);
  EXPECT_EQ(out.kind, outcome_kind::function_error);
  EXPECT_EQ(out.function_error_type, "Handled");
  EXPECT_EQ(out.executed_version, "7");
}
