#pragma once

#include <chrono>
#include <cstddef>
#include <deque>

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "transport/function_target.hpp"

namespace kesm::actors {

/// State of one invoker actor. Touched only by that actor.
struct invoker_state {
  transport::function_target_ptr target;
  caf::actor supervisor;
  size_t max_concurrency = 5;
  size_t in_flight = 0;
  std::deque<batch_ptr> queue;

  static inline const char* name = "kesm.invoker";
};

/// One per poller: calls the function with each batch's payload, at most
/// `max_concurrency` (Lambda: 5) calls at once, queueing the rest. The
/// transport completes calls on its own thread and posts them back here;
/// this actor never blocks. Classifies each answer and reports it to the
/// supervisor.
///
/// Messages:
/// - `batch_ptr` (batcher: new batch; supervisor: retry)
/// - `(result_atom, batch_ptr, invocation_result, int64_t start_us)` from
///   the transport
/// Sends `(outcome_atom, batch_ptr, outcome)` to the supervisor.
caf::behavior invoker(caf::stateful_actor<invoker_state>* self,
                      transport::function_target_ptr target,
                      caf::actor supervisor, size_t max_concurrency);

/// Classifies a raw invocation result (esm-spec.md section 4).
outcome classify(const transport::invocation_result& res);

} // namespace kesm::actors
