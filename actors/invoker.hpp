#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <unordered_set>

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "codecs/event_writer.hpp"
#include "codecs/response_parser.hpp"
#include "transport/function_target.hpp"

namespace kesm::actors {

/// How an invoker calls and judges (changeable live with `invoker_config`
/// messages).
struct invoker_config {
  transport::function_target_ptr target;
  size_t max_concurrency = 5;
  /// `FunctionResponseTypes: ["ReportBatchItemFailures"]`.
  bool report_item_failures = false;
  /// A batch above this (one record too big for any event) is not sent.
  size_t max_payload = codecs::max_payload_bytes;
};

/// State of one invoker actor. Touched only by that actor.
struct invoker_state {
  invoker_config cfg;
  caf::actor supervisor;
  codecs::response_parser parser;
  size_t in_flight = 0;
  std::deque<batch_ptr> queue;
  /// Batches whose call is running: the only strong references while the
  /// transport works (it keeps a weak one).
  std::unordered_set<batch_ptr> out;

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
/// - `invoker_config`: replaces the configuration (live update); calls in
///   flight finish with the old target
/// - `(result_atom, batch_ptr, invocation_result, int64_t start_us)` from
///   the transport
/// Sends `(outcome_atom, batch_ptr, outcome)` to the supervisor.
caf::behavior invoker(caf::stateful_actor<invoker_state>* self,
                      invoker_config cfg, caf::actor supervisor);

/// Classifies a raw invocation result (esm-spec.md section 4). With
/// `parser` (ReportBatchItemFailures enabled), a 2xx answer is read as a
/// partial-batch response for `b`: identifiers must name records of `b`,
/// else the whole batch failed.
outcome classify(const transport::invocation_result& res,
                 codecs::response_parser* parser = nullptr,
                 const batch* b = nullptr);

} // namespace kesm::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kesm::actors::invoker_config)
