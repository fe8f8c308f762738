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
  auto uut = sys.spawn(invoker, target, sup, size_t{5});
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
