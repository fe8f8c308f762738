#include "codecs/scaling_policy.hpp"

#include <algorithm>

namespace kesm::codecs {

void scaling_range(const scaling_bounds& b, uint32_t& floor,
                   uint32_t& ceiling) {
  ceiling = b.max_pollers > 0 ? b.max_pollers : UINT32_MAX;
  if (b.partitions > 0)
    ceiling = std::min(ceiling, b.partitions);
  if (b.process_cap > 0)
    ceiling = std::min(ceiling, b.process_cap);
  if (ceiling == UINT32_MAX) // on demand, nothing owned yet
    ceiling = std::max<uint32_t>(1, b.min_pollers);
  ceiling = std::max<uint32_t>(1, ceiling);
  floor = std::clamp<uint32_t>(b.min_pollers, 1, ceiling);
}

scaling_decision decide(const scaling_knobs& k, const scaling_bounds& b,
                        scaling_memory& mem, const scaling_observation& obs) {
  uint32_t floor = 1, ceiling = 1;
  scaling_range(b, floor, ceiling);
  auto current = mem.pollers;
  auto next = current;
  auto reason = scaling_reason::none;
  bool growing = obs.lag > mem.last_lag;
  if (current < floor || current > ceiling) {
    // The bounds moved (an update, partitions gained or lost): they come
    // first; the observations count from the next period.
    next = std::clamp(current, floor, ceiling);
    reason = scaling_reason::bounds;
    mem.idle_run = 0;
  } else if (obs.throttles > 0) {
    mem.since_throttle = 0;
    mem.idle_run = 0;
    next = std::max(floor, current / 2);
    reason = scaling_reason::throttled;
  } else {
    if (mem.since_throttle < 1000)
      ++mem.since_throttle;
    bool waiting = obs.lag > 0 && (obs.lag >= k.lag_floor || growing);
    if (obs.busy >= k.busy_high && waiting) {
      mem.idle_run = 0;
      if (mem.since_throttle > k.throttle_quiet) {
        bool recovering = mem.since_throttle <= 4 * k.throttle_quiet;
        bool deep = obs.lag >= k.lag_deep && obs.busy >= k.busy_full;
        uint32_t step
            = recovering ? 1
                         : std::min(deep ? 3 * current : current, k.max_step);
        auto top = obs.useful > 0
                       ? std::max(current, std::min(ceiling, obs.useful))
                       : ceiling;
        next = std::min(top, current + std::max<uint32_t>(1, step));
        reason = scaling_reason::lag;
      }
    } else if (obs.busy <= k.busy_low && !growing) {
      if (++mem.idle_run >= k.idle_periods && current > floor) {
        mem.idle_run = 0;
        next = current - 1;
        reason = scaling_reason::idle;
      }
    } else {
      mem.idle_run = 0;
    }
  }
  next = std::clamp(next, floor, ceiling);
  mem.last_lag = obs.lag;
  mem.pollers = next;
  if (next == current)
    reason = scaling_reason::none;
  return {next, reason};
}

const char* to_string(scaling_reason r) {
  switch (r) {
  case scaling_reason::lag:
    return "lag";
  case scaling_reason::idle:
    return "idle";
  case scaling_reason::throttled:
    return "throttled";
  case scaling_reason::bounds:
    return "bounds";
  case scaling_reason::capacity:
    return "capacity";
  default:
    return "none";
  }
}

std::vector<uint32_t>
share_capacity(const std::vector<capacity_demand>& demands, uint32_t cap) {
  std::vector<uint32_t> grant(demands.size(), 0);
  uint64_t wanted = 0, floors = 0;
  for (auto& d : demands) {
    wanted += d.wanted;
    floors += std::min(d.floor, d.wanted);
  }
  if (cap == 0 || wanted <= cap) {
    for (size_t i = 0; i < demands.size(); ++i)
      grant[i] = demands[i].wanted;
    return grant;
  }
  // Minimums first.
  uint64_t used = 0;
  for (size_t i = 0; i < demands.size(); ++i) {
    uint64_t f = std::min(demands[i].floor, demands[i].wanted);
    if (floors > cap) // even the minimums do not fit: scale them
      f = std::max<uint64_t>(1, f * cap / floors);
    grant[i] = static_cast<uint32_t>(f);
    used += f;
  }
  if (used >= cap)
    return grant;
  // The rest by lag (equal shares where no lag is known).
  uint64_t rest = cap - used, lag_sum = 0;
  for (auto& d : demands)
    lag_sum += d.lag;
  uint64_t given = 0;
  for (size_t i = 0; i < demands.size(); ++i) {
    uint64_t extra = demands[i].wanted - grant[i];
    uint64_t share
        = lag_sum > 0 ? rest * demands[i].lag / lag_sum : rest / demands.size();
    auto add = std::min(extra, share);
    grant[i] += static_cast<uint32_t>(add);
    given += add;
  }
  // What division left over: one at a time, by lag.
  std::vector<size_t> order(demands.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return demands[a].lag > demands[b].lag;
  });
  for (bool progress = true; given < rest && progress;) {
    progress = false;
    for (auto i : order)
      if (given < rest && grant[i] < demands[i].wanted) {
        ++grant[i];
        ++given;
        progress = true;
      }
  }
  return grant;
}

double event_poller_units(uint32_t pollers, double bytes_per_second) {
  return std::max(static_cast<double>(pollers) / 10.0,
                  bytes_per_second / (20.0 * 1000 * 1000));
}

} // namespace kesm::codecs
