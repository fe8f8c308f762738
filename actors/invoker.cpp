#include "actors/invoker.hpp"

#include "actors/handoff.hpp"

#include <algorithm>

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
  while (st.in_flight < st.cfg.max_concurrency && !st.queue.empty()) {
    auto b = std::move(st.queue.front());
    st.queue.pop_front();
    if (b->schema_error != nullptr) {
      outcome out;
      out.kind = outcome_kind::schema_failed;
      out.detail = std::string("schema registry: ") + b->schema_error;
      handoff_send(b.get());
      self->send(st.supervisor, outcome_atom_v, b, std::move(out));
      continue;
    }
    if (b->payload->size() > st.cfg.max_payload) {
      outcome out;
      out.kind = outcome_kind::too_large;
      out.detail = "record event of " + std::to_string(b->payload->size())
                   + " bytes exceeds the " + std::to_string(st.cfg.max_payload)
                   + "-byte payload limit";
      handoff_send(b.get());
      self->send(st.supervisor, outcome_atom_v, b, std::move(out));
      continue;
    }
    ++st.in_flight;
    auto hdl = caf::actor_cast<caf::actor>(self);
    auto start = now_us();
    // The transport holds only a weak reference: a call abandoned at
    // shutdown must not keep the batch's librdkafka messages alive (the
    // consumer could not be destroyed until the call ends).
    st.out.insert(b);
    std::weak_ptr<const batch> weak = b;
    st.cfg.target->invoke(b->payload,
                          [hdl, weak, start](transport::invocation_result res) {
                            auto b = weak.lock();
                            if (!b)
                              return; // the invoker is gone
                            handoff_send(b.get());
                            caf::anon_send(hdl, result_atom_v, b,
                                           std::move(res), start);
                          });
  }
}

/// Reads a ReportBatchItemFailures answer into `out` (esm-spec.md section
/// 4): the lowest failed offset per partition, every identifier checked
/// against the batch.
void read_item_failures(const transport::invocation_result& res,
                        codecs::response_parser& parser, const batch& b,
                        outcome& out) {
  auto answer = parser.parse(res.body);
  auto fail = [&](std::string why) {
    out.kind = outcome_kind::function_error;
    out.detail = "invalid batchItemFailures answer: " + why;
    out.restart.clear();
  };
  if (!answer)
    return fail(answer.err().message);
  if (answer->failures.empty())
    return;
  std::string_view topic = b.chunks.front()->topic;
  for (auto& f : answer->failures) {
    std::string_view name = f.partition;
    auto dash = name.rfind('-');
    bool found = false;
    size_t pos = 0;
    if (dash != std::string_view::npos && name.substr(0, dash) == topic)
      for (auto& part : b.parts) {
        auto first = b.records.begin() + static_cast<ptrdiff_t>(pos);
        auto last = first + static_cast<ptrdiff_t>(part.count);
        pos += part.count;
        if (name.substr(dash + 1) != std::to_string(part.partition))
          continue;
        auto it = std::lower_bound(first, last, f.offset,
                                   [](const codecs::record_view& r,
                                      int64_t o) { return r.offset < o; });
        found = it != last && it->offset == f.offset;
        if (!found)
          break;
        auto slot = std::find_if(out.restart.begin(), out.restart.end(),
                                 [&](auto& e) {
                                   return e.first == part.partition;
                                 });
        if (slot == out.restart.end())
          out.restart.emplace_back(part.partition, f.offset);
        else
          slot->second = std::min(slot->second, f.offset);
        break;
      }
    if (!found)
      return fail("record " + f.partition + "@" + std::to_string(f.offset)
                  + " is not in the batch");
  }
  out.kind = outcome_kind::partial;
  out.detail = std::to_string(answer->failures.size())
               + " records reported failed by the function";
}

} // namespace

outcome classify(const transport::invocation_result& res,
                 codecs::response_parser* parser, const batch* b) {
  outcome out;
  if (res.status == 0 && !res.access_denied) {
    out.kind = outcome_kind::function_error;
    out.detail = res.timed_out           ? "function timed out"
                 : res.answer_too_large ? "function error: " + res.error
                                        : "function unreachable: " + res.error;
  } else if (res.access_denied) {
    // kesm's configuration or credentials, not the records: waits like a
    // throttle, never spends an attempt or dead-letters a record.
    out.kind = outcome_kind::throttled;
    out.detail = res.error;
  } else if (res.status == 429) {
    out.kind = outcome_kind::throttled;
    out.detail = "function throttled (HTTP 429"
                 + (res.error_type.empty() ? "" : " " + res.error_type) + ")";
    out.retry_after_ms = res.retry_after_ms;
  } else if (res.status == 413 && b != nullptr && b->record_count() == 1) {
    // The function refuses even one record's event: the oversize path
    // (MaximumPayloadSizeExceeded), as for an event over kesm's own cap.
    out.kind = outcome_kind::too_large;
    out.detail = "the function refused a one-record event as too large (HTTP"
                 " 413"
                 + (res.error_type.empty() ? "" : " " + res.error_type) + ")";
  } else if (res.status < 200 || res.status > 299) {
    out.kind = outcome_kind::function_error;
    out.detail = "function answered HTTP " + std::to_string(res.status);
  } else if (res.function_error) {
    out.kind = outcome_kind::function_error;
    out.detail = "function error (X-Amz-Function-Error)";
  } else if (parser != nullptr && b != nullptr) {
    read_item_failures(res, *parser, *b, out);
  }
  out.status = res.status;
  out.function_error_type = res.function_error_type;
  out.executed_version = res.executed_version;
  return out;
}

caf::behavior invoker(caf::stateful_actor<invoker_state>* self,
                      invoker_config cfg, caf::actor supervisor) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.supervisor = std::move(supervisor);
  return {
    [=](invoker_config& next) {
      self->state.cfg = std::move(next);
      pump(self);
    },
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
      st.out.erase(b);
      auto out = classify(res,
                          st.cfg.report_item_failures ? &st.parser : nullptr,
                          b.get());
      out.micros = now_us() - start;
      handoff_send(b.get());
      self->send(st.supervisor, outcome_atom_v, b, std::move(out));
      pump(self);
    },
  };
}

} // namespace kesm::actors
