#include "actors/invoker.hpp"

#include "actors/handoff.hpp"

namespace kesm::actors {

namespace {

using self_ptr = caf::stateful_actor<invoker_state>*;

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

void pump(self_ptr self) {
  auto& st = self->state;
  while (st.in_flight < st.max_concurrency && !st.queue.empty()) {
    auto b = std::move(st.queue.front());
    st.queue.pop_front();
    ++st.in_flight;
    auto hdl = caf::actor_cast<caf::actor>(self);
    auto start = now_us();
    st.target->invoke(b->payload,
                      [hdl, b, start](transport::invocation_result res) {
                        handoff_send(b.get());
                        caf::anon_send(hdl, result_atom_v, b, std::move(res),
                                       start);
                      });
  }
}

} // namespace

outcome classify(const transport::invocation_result& res) {
  outcome out;
  if (res.status == 0) {
    out.kind = outcome_kind::function_error;
    out.detail = res.timed_out ? "function timed out"
                               : "function unreachable: " + res.error;
  } else if (res.status == 429) {
    out.kind = outcome_kind::throttled;
    out.detail = "function throttled (HTTP 429)";
  } else if (res.status < 200 || res.status > 299) {
    out.kind = outcome_kind::function_error;
    out.detail = "function answered HTTP " + std::to_string(res.status);
  } else if (res.function_error) {
    out.kind = outcome_kind::function_error;
    out.detail = "function error (X-Amz-Function-Error)";
  }
  return out;
}

caf::behavior invoker(caf::stateful_actor<invoker_state>* self,
                      transport::function_target_ptr target,
                      caf::actor supervisor, size_t max_concurrency) {
  auto& st = self->state;
  st.target = std::move(target);
  st.supervisor = std::move(supervisor);
  st.max_concurrency = max_concurrency;
  return {
    [=](const batch_ptr& b) {
      handoff_receive(b.get());
      self->state.queue.push_back(b);
      pump(self);
    },
    [=](result_atom, const batch_ptr& b,
        const transport::invocation_result& res, int64_t start) {
      handoff_receive(b.get());
      auto& st = self->state;
      --st.in_flight;
      auto out = classify(res);
      out.micros = now_us() - start;
      handoff_send(b.get());
      self->send(st.supervisor, outcome_atom_v, b, std::move(out));
      pump(self);
    },
  };
}

} // namespace kesm::actors
