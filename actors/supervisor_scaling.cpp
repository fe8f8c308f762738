#include "actors/supervisor_state.hpp"

#include <algorithm>

#include <prometheus/counter.h>

#include "actors/capacity_pool.hpp"

// The supervisor's scaling: observations over each evaluation period (lag
// from librdkafka's cached watermarks, call time, throttles), the policy of
// codecs/scaling_policy.hpp, and sharing the pollers' invocation slots out
// among the batcher + invoker pairs. Partitions never move and the group
// never rebalances: a poller is capacity (5 concurrent calls), and a pair
// with more slots runs more batches of its partitions at once, still at
// most one per partition.
namespace kesm::actors::detail {

invoker_config invoker_settings(const supervisor_state& st, size_t i) {
  invoker_config ic;
  ic.target = st.opts.target;
  ic.max_concurrency
      = i < st.slots.size() ? st.slots[i] : st.opts.max_concurrency;
  ic.report_item_failures = st.opts.config.report_item_failures;
  ic.max_payload = st.opts.max_payload;
  return ic;
}

codecs::scaling_bounds supervisor_state::scaling_bounds() const {
  auto& cfg = opts.config;
  codecs::scaling_bounds b;
  b.provisioned = cfg.provisioned;
  b.min_pollers = static_cast<uint32_t>(std::max(1, cfg.min_pollers));
  b.max_pollers = static_cast<uint32_t>(std::max(0, cfg.max_pollers));
  b.partitions = static_cast<uint32_t>(partitions.size());
  b.process_cap = opts.max_pollers;
  return b;
}

void supervisor_state::apply_pollers(uint32_t pollers) {
  auto total = static_cast<size_t>(pollers) * opts.max_concurrency;
  auto pairs = slots.size();
  for (size_t i = 0; i < pairs; ++i) {
    // Every pair keeps at least one slot: its partitions must move on.
    auto share = std::max<size_t>(1, total / pairs + (i < total % pairs));
    if (slots[i] == share)
      continue;
    slots[i] = share;
    if (i < batchers.size()) {
      self->send(batchers[i], slots_atom_v, static_cast<uint64_t>(share));
      self->send(invokers[i], invoker_settings(*this, i));
    }
  }
  status.pollers = pollers;
  transport::set_gauge(counters.pollers, pollers);
  transport::set_gauge(counters.provisioned_pollers,
                       opts.config.provisioned ? pollers : 0);
}

namespace {

/// One partition's lag from librdkafka's cached watermarks (no broker
/// call); false when it has none yet.
bool partition_lag(const supervisor_state& st, int32_t p, uint64_t& lag) {
  int64_t lo = 0, hi = 0;
  if (!st.rk
      || rd_kafka_get_watermark_offsets(st.rk.get(), st.topic().c_str(), p,
                                        &lo, &hi)
           != RD_KAFKA_RESP_ERR_NO_ERROR
      || hi < 0)
    return false;
  auto pos = st.positions.find(p);
  int64_t from = pos != st.positions.end() && pos->second >= 0 ? pos->second
                                                                : lo;
  lag = static_cast<uint64_t>(std::max<int64_t>(0, hi - from));
  return true;
}

} // namespace

uint64_t supervisor_state::offset_lag(uint64_t& max) const {
  uint64_t sum = 0;
  max = 0;
  for (auto& [p, a] : partitions) {
    uint64_t lag = 0;
    if (!partition_lag(*this, p, lag))
      continue;
    sum += lag;
    max = std::max(max, lag);
  }
  return sum;
}

mapping_status supervisor_state::snapshot() const {
  mapping_status out = status;
  if (counters.polled != nullptr)
    out.polled_records = static_cast<uint64_t>(counters.polled->Value());
  uint64_t sum = 0;
  for (auto& [p, a] : partitions) {
    uint64_t lag = 0;
    if (partition_lag(*this, p, lag)) {
      out.partition_lag.emplace_back(p, lag);
      sum += lag;
    }
  }
  if (!out.partition_lag.empty())
    out.offset_lag = sum;
  return out;
}

void supervisor_state::maybe_scale() {
  if (stopping || closed || !rk)
    return;
  auto now = std::chrono::steady_clock::now();
  if (now < next_evaluation)
    return;
  auto period = now - period_start;
  period_start = now;
  next_evaluation = now + opts.scaling_interval;
  uint64_t max_lag = 0;
  auto lag = offset_lag(max_lag);
  status.offset_lag = lag;
  transport::set_gauge(counters.sum_offset_lag, static_cast<double>(lag));
  transport::set_gauge(counters.max_offset_lag, static_cast<double>(max_lag));
  transport::set_gauge(counters.offset_lag, static_cast<double>(lag));
  auto period_us
      = std::chrono::duration_cast<std::chrono::microseconds>(period).count();
  period_us = std::max<int64_t>(period_us, 1000);
  auto capacity = static_cast<double>(period_us)
                  * static_cast<double>(scaling.pollers * opts.max_concurrency);
  codecs::scaling_observation obs;
  obs.lag = lag;
  obs.busy = capacity > 0
                 ? std::min(1.0, static_cast<double>(busy_us) / capacity)
                 : 0;
  obs.throttles = period_throttles;
  auto per = std::max<size_t>(1, opts.max_concurrency);
  obs.useful = static_cast<uint32_t>((partitions.size() + per - 1) / per);
  busy_us = 0;
  period_throttles = 0;
  auto bounds = scaling_bounds();
  uint32_t floor = 1, ceiling = 1;
  codecs::scaling_range(bounds, floor, ceiling);
  auto wanted = bounds.max_pollers;
  if (wanted > ceiling && ceiling != logged_cap && bounds.partitions > 0) {
    logged_cap = ceiling;
    log(log_level::info, "mapping " + status.uuid,
        "MaximumPollers " + std::to_string(wanted) + " capped at "
            + std::to_string(ceiling) + " (partitions this process owns"
            + (bounds.process_cap > 0 ? ", --max-pollers" : "") + ")");
  }
  double bytes = counters.throughput_bytes != nullptr
                     ? counters.throughput_bytes->Value()
                     : 0;
  auto seconds = static_cast<double>(period_us) / 1e6;
  report_epu(seconds > 0 ? (bytes - last_throughput) / seconds : 0);
  last_throughput = bytes;
  auto from = scaling.pollers;
  auto d = codecs::decide(opts.scaling, bounds, scaling, obs);
  if (opts.capacity) {
    auto granted
        = opts.capacity->share(status.uuid, opts.config.poller_group,
                               codecs::capacity_demand{floor, d.pollers, lag});
    if (granted < d.pollers) {
      d.pollers = granted;
      d.reason = codecs::scaling_reason::capacity;
      scaling.pollers = granted;
    }
  }
  if (d.pollers == from)
    return;
  log(log_level::info, "mapping " + status.uuid,
      "pollers " + std::to_string(from) + " -> " + std::to_string(d.pollers)
          + " (" + codecs::to_string(d.reason) + ": lag " + std::to_string(lag)
          + " records, slots "
          + std::to_string(static_cast<int>(obs.busy * 100)) + "% busy, "
          + std::to_string(obs.throttles) + " throttles; bounds "
          + std::to_string(floor) + ".." + std::to_string(ceiling) + ")");
  transport::count(d.pollers > from ? counters.scaled_up
                                    : counters.scaled_down);
  apply_pollers(d.pollers);
}

void supervisor_state::report_epu(double bytes_per_second) {
  if (!opts.metrics)
    return;
  auto& group = opts.config.poller_group;
  if (epu == nullptr || group != epu_group) {
    if (epu != nullptr)
      opts.metrics->drop_epu(status.uuid, epu_group);
    epu_group = group;
    epu = opts.metrics->epu(status.uuid, epu_group);
  }
  transport::set_gauge(
      epu, codecs::event_poller_units(scaling.pollers, bytes_per_second));
}

void supervisor_state::leave_capacity() {
  if (opts.capacity)
    opts.capacity->leave(status.uuid);
  if (epu != nullptr && opts.metrics)
    opts.metrics->drop_epu(status.uuid, epu_group);
  epu = nullptr;
}

} // namespace kesm::actors::detail
