#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "codecs/scaling_policy.hpp"

namespace kesm::actors {

/// Poller capacity shared by the mappings of one process (`--max-pollers`)
/// and by the mappings of one poller group (`PollerGroupName`: at most
/// 2000 pollers, as AWS). Each supervisor states its demand at every
/// scaling evaluation and runs what it is granted: everyone gets what it
/// wants when that fits, else minimums first, then by offset lag
/// (`codecs::share_capacity`), within its group first, then process-wide.
/// A mapping grows only into capacity the others do not run now, so the
/// process total stays within the cap while shares shift (one evaluation
/// period each); only minimums may exceed it, briefly, when a mapping
/// starts while the others hold everything.
///
/// Thread-safe (one mutex; called once per evaluation period per mapping,
/// never on the hot path). Shared by `mapping_options::capacity`.
class capacity_pool {
public:
  /// `process_cap` 0: no process-wide limit.
  explicit capacity_pool(uint32_t process_cap, uint32_t group_cap = 2000)
      : cap_(process_cap), group_cap_(group_cap) {
    // nop
  }

  /// Records `uuid`'s demand (in `group`, "" for none) and returns the
  /// pollers it may run now, at most `d.wanted`.
  uint32_t share(const std::string& uuid, const std::string& group,
                 codecs::capacity_demand d);

  /// Forgets a mapping that stopped.
  void leave(const std::string& uuid);

  uint32_t process_cap() const noexcept {
    return cap_;
  }

private:
  struct claim {
    std::string group;
    codecs::capacity_demand demand;
    /// What it was granted last: what it runs until its next evaluation.
    uint32_t current = 0;
  };
  std::mutex mtx_;
  uint32_t cap_;
  uint32_t group_cap_;
  std::map<std::string, claim> claims_;
};

} // namespace kesm::actors
