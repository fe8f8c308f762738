#include "actors/status_report.hpp"

#include <cstdio>

#include "codecs/event_writer.hpp"

namespace kesm::actors {

namespace {

void field(std::string& out, const char* name, const std::string& value) {
  out += '"';
  out += name;
  out += "\":";
  codecs::event_writer::append_json_string(out, value);
  out += ',';
}

void field(std::string& out, const char* name, uint64_t value) {
  out += '"';
  out += name;
  out += "\":";
  out += std::to_string(value);
  out += ',';
}

void number(std::string& out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  // trailing zeros off: 12.500 -> 12.5, 3.000 -> 3
  std::string s = buf;
  while (s.find('.') != s.npos && (s.back() == '0' || s.back() == '.')) {
    bool dot = s.back() == '.';
    s.pop_back();
    if (dot)
      break;
  }
  out += s;
}

void finish(std::string& out, char closing) {
  if (!out.empty() && out.back() == ',')
    out.back() = closing;
  else
    out += closing;
}

/// Per second between two samples.
double rate(uint64_t later, uint64_t earlier, int64_t ms) {
  if (ms <= 0 || later < earlier)
    return 0;
  return static_cast<double>(later - earlier) * 1000.0
         / static_cast<double>(ms);
}

double latency_ms(const status_sample& a, const status_sample& b) {
  if (b.invocations <= a.invocations)
    return 0;
  return static_cast<double>(b.invoke_micros - a.invoke_micros) / 1000.0
         / static_cast<double>(b.invocations - a.invocations);
}

template <class F>
void column(std::string& out, const char* name,
            const std::deque<status_sample>& s, F f) {
  out += '"';
  out += name;
  out += "\":[";
  for (size_t i = 1; i < s.size(); ++i) {
    if (i > 1)
      out += ',';
    f(s[i - 1], s[i]);
  }
  out += "],";
}

} // namespace

bool status_history::sample(const mapping_status& s, int64_t now_ms,
                            int64_t every_ms) {
  if (!samples_.empty() && now_ms - samples_.back().time_ms < every_ms)
    return false;
  status_sample x;
  x.time_ms = now_ms;
  x.polled = s.polled_records;
  x.invoked = s.invoked_records;
  x.failed = s.dead_lettered + s.dropped;
  x.dead_lettered = s.dead_lettered;
  x.function_errors = s.function_errors;
  x.invocations = s.invocations;
  x.invoke_micros = s.invoke_micros;
  x.lag = s.offset_lag;
  x.pollers = s.pollers;
  // A new supervisor (an update, a restart) counts from zero again: the
  // old samples would give negative rates, so the chart starts over.
  if (!samples_.empty()
      && (x.polled < samples_.back().polled
          || x.invoked < samples_.back().invoked))
    samples_.clear();
  samples_.push_back(x);
  while (samples_.size() > capacity_)
    samples_.pop_front();
  return true;
}

void append_status_json(std::string& out, const status_view& v,
                        bool with_history) {
  auto& cfg = *v.cfg;
  out += '{';
  field(out, "UUID", cfg.uuid);
  field(out, "FunctionName", cfg.function_name);
  field(out, "Topic", cfg.topic);
  field(out, "State", v.rt->state);
  field(out, "StateTransitionReason", v.rt->state_transition_reason);
  field(out, "LastProcessingResult", v.rt->last_processing_result);
  field(out, "Source", *v.source);
  field(out, "BatchSize", static_cast<uint64_t>(cfg.batch_size));
  mapping_status none;
  const mapping_status& s = v.last ? *v.last : none;
  field(out, "Pollers", static_cast<uint64_t>(v.last ? s.pollers : 0));
  field(out, "OffsetLag", s.offset_lag);
  out += "\"Partitions\":[";
  for (auto& [p, lag] : s.partition_lag) {
    out += "{\"Partition\":" + std::to_string(p)
           + ",\"Lag\":" + std::to_string(lag) + "},";
  }
  finish(out, ']');
  out += ",\"Totals\":{";
  field(out, "Polled", s.polled_records);
  field(out, "Invoked", s.invoked_records);
  field(out, "Completed", s.completed_records);
  field(out, "Invocations", s.invocations);
  field(out, "FunctionErrors", s.function_errors);
  field(out, "Throttles", s.throttles);
  field(out, "DeadLettered", s.dead_lettered);
  field(out, "Dropped", s.dropped);
  field(out, "Revocations", s.revocations);
  finish(out, '}');
  out += ",\"Rates\":{";
  auto& h = v.history->samples();
  double polled = 0, invoked = 0, failed = 0, dlq = 0, latency = 0;
  if (h.size() >= 2) {
    auto& a = h[h.size() - 2];
    auto& b = h.back();
    auto ms = b.time_ms - a.time_ms;
    polled = rate(b.polled, a.polled, ms);
    invoked = rate(b.invoked, a.invoked, ms);
    failed = rate(b.failed, a.failed, ms);
    dlq = rate(b.dead_lettered, a.dead_lettered, ms);
    latency = latency_ms(a, b);
  }
  out += "\"PolledPerSecond\":";
  number(out, polled);
  out += ",\"InvokedPerSecond\":";
  number(out, invoked);
  out += ",\"FailedPerSecond\":";
  number(out, failed);
  out += ",\"DeadLetteredPerSecond\":";
  number(out, dlq);
  out += ",\"InvocationMs\":";
  number(out, latency);
  out += '}';
  if (with_history) {
    out += ",\"History\":{";
    column(out, "t", h,
           [&](auto&, auto& b) { out += std::to_string(b.time_ms); });
    column(out, "lag", h,
           [&](auto&, auto& b) { out += std::to_string(b.lag); });
    column(out, "polled", h, [&](auto& a, auto& b) {
      number(out, rate(b.polled, a.polled, b.time_ms - a.time_ms));
    });
    column(out, "invoked", h, [&](auto& a, auto& b) {
      number(out, rate(b.invoked, a.invoked, b.time_ms - a.time_ms));
    });
    column(out, "failed", h, [&](auto& a, auto& b) {
      number(out, rate(b.failed, a.failed, b.time_ms - a.time_ms));
    });
    column(out, "deadLettered", h, [&](auto& a, auto& b) {
      number(out,
             rate(b.dead_lettered, a.dead_lettered, b.time_ms - a.time_ms));
    });
    column(out, "latencyMs", h,
           [&](auto& a, auto& b) { number(out, latency_ms(a, b)); });
    finish(out, '}');
  }
  out += '}';
}

} // namespace kesm::actors
