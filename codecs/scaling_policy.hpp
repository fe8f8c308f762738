#pragma once

#include <cstdint>
#include <vector>

namespace kesm::codecs {

/// How a mapping sizes its pollers (esm-spec.md section 7): a pure function
/// of what the supervisor observed over one evaluation period, so every
/// rule is unit-tested without a broker. The supervisor calls `decide` once
/// an evaluation period (default 5 s) and applies the answer.
///
/// The algorithm (docs/architecture.md, "Scaling"):
/// - throttled (429 / TooManyRequestsException) in the period: halve the
///   pollers (not below the floor); no scale-up for `throttle_quiet`
///   periods, then +1 a period for another `3 x throttle_quiet` (slow
///   recovery), then doubling again;
/// - lag and busy slots: when the slots were at least `busy_high` busy and
///   records wait (lag above `lag_floor`, or growing), double the pollers;
///   with a deep backlog (`lag_deep`) and full slots (`busy_full`),
///   quadruple them (at most `+max_step` either way), up to the ceiling;
/// - idle: when the slots were at most `busy_low` busy and the lag is not
///   growing for `idle_periods` periods in a row, remove one poller;
/// - in between nothing changes (hysteresis: a steady load does not flap);
/// - bounds: floor = MinimumPollers (1 on demand), ceiling =
///   min(MaximumPollers, owned partitions) (on demand: owned partitions, and
///   `process_cap`); a poller without a partition is pointless.

/// Tunables, with their defaults.
struct scaling_knobs {
  double busy_high = 0.8;
  double busy_low = 0.3;
  /// Records waiting below which the lag alone never adds a poller.
  uint64_t lag_floor = 100;
  /// Idle periods before one poller goes (the cool-down).
  uint32_t idle_periods = 3;
  /// Periods without scale-up after a throttle.
  uint32_t throttle_quiet = 2;
  /// Most pollers added at once.
  uint32_t max_step = 16;
  /// A backlog this large with the slots at least `busy_full` busy
  /// quadruples the pollers instead of doubling them.
  uint64_t lag_deep = 10000;
  double busy_full = 0.75;
};

/// The mapping's bounds.
struct scaling_bounds {
  /// `ProvisionedPollerConfig` given with a minimum or maximum.
  bool provisioned = false;
  uint32_t min_pollers = 1;
  /// 0: no maximum of its own (on demand).
  uint32_t max_pollers = 0;
  /// Partitions this process owns now (0: none yet).
  uint32_t partitions = 0;
  /// Process-wide cap for this mapping (0: none).
  uint32_t process_cap = 0;
};

/// One evaluation period's observations.
struct scaling_observation {
  /// Records not yet committed, summed over the owned partitions.
  uint64_t lag = 0;
  /// Share of the invocation slots (5 per poller) in use, 0..1.
  double busy = 0;
  /// Throttled answers in the period.
  uint32_t throttles = 0;
  /// Pollers that can be kept busy at all: a partition has one batch in
  /// flight at most, so owned partitions / 5, rounded up (0: unknown).
  /// Growth stops there; bounds and minimums still apply.
  uint32_t useful = 0;
};

/// What the policy remembers between periods.
struct scaling_memory {
  uint32_t pollers = 1;
  uint64_t last_lag = 0;
  uint32_t idle_run = 0;
  /// Periods since the last throttle (large: none recently).
  uint32_t since_throttle = 1000;
};

enum class scaling_reason : uint8_t {
  none,
  lag,
  idle,
  throttled,
  bounds,
  /// Held below what the policy wanted by a shared limit (--max-pollers,
  /// a poller group's 2000).
  capacity,
};

/// A decision: the new count and why it changed (`none`: unchanged).
struct scaling_decision {
  uint32_t pollers = 1;
  scaling_reason reason = scaling_reason::none;
};

/// The floor and ceiling for `b`: floor <= ceiling, both >= 1.
void scaling_range(const scaling_bounds& b, uint32_t& floor, uint32_t& ceiling);

/// Decides the poller count for the next period and updates `mem`.
scaling_decision decide(const scaling_knobs& k, const scaling_bounds& b,
                        scaling_memory& mem, const scaling_observation& obs);

/// "lag", "idle", "throttled", "bounds", "capacity" or "none".
const char* to_string(scaling_reason r);

/// One mapping's claim on shared capacity.
struct capacity_demand {
  uint32_t floor = 1;
  uint32_t wanted = 1;
  uint64_t lag = 0;
};

/// Shares `cap` pollers fairly among `demands` (0: no limit): everyone
/// gets what it wants when that fits; otherwise minimums first (scaled
/// down, but never below 1, when even they do not fit), then the rest by
/// lag, larger lag first for what division leaves over. Returns the grant
/// of each demand, in order; a grant never exceeds `wanted`.
std::vector<uint32_t>
share_capacity(const std::vector<capacity_demand>& demands, uint32_t cap);

/// Event poller units (esm-spec.md section 7): one EPU is 10 pollers or
/// 20 MB/s of throughput, whichever needs more.
double event_poller_units(uint32_t pollers, double bytes_per_second);

} // namespace kesm::codecs
