#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace kesm::actors {

/// Exponential backoff with full jitter over [base, cap]: attempt n waits a
/// random time in [d/2, d] with d = min(cap, base * 2^(n-1)). Plain value,
/// one per owner.
struct backoff {
  std::chrono::milliseconds base{100};
  std::chrono::milliseconds cap{30000};

  std::chrono::milliseconds delay(uint32_t attempt, std::mt19937_64& rng) const {
    auto exp = std::min<uint32_t>(attempt > 0 ? attempt - 1 : 0, 30);
    auto d = std::min<int64_t>(cap.count(), base.count() << exp);
    std::uniform_int_distribution<int64_t> dist(d / 2, std::max<int64_t>(d, 1));
    return std::chrono::milliseconds{dist(rng)};
  }
};

} // namespace kesm::actors
