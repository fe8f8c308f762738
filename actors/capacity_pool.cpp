#include "actors/capacity_pool.hpp"

#include <algorithm>
#include <vector>

namespace kesm::actors {

uint32_t capacity_pool::share(const std::string& uuid, const std::string& group,
                              codecs::capacity_demand d) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& mine_claim = claims_[uuid];
  mine_claim.group = group;
  mine_claim.demand = d;
  // Within each group first: its members' wants become their group grants.
  std::map<std::string, codecs::capacity_demand> effective;
  std::map<std::string, std::vector<std::string>> groups;
  for (auto& [id, c] : claims_) {
    effective[id] = c.demand;
    if (!c.group.empty())
      groups[c.group].push_back(id);
  }
  for (auto& [name, members] : groups) {
    std::vector<codecs::capacity_demand> ds;
    for (auto& id : members)
      ds.push_back(claims_[id].demand);
    auto grants = codecs::share_capacity(ds, group_cap_);
    for (size_t i = 0; i < members.size(); ++i)
      effective[members[i]].wanted = grants[i];
  }
  // Then process-wide.
  std::vector<codecs::capacity_demand> all;
  size_t mine = 0;
  for (auto& [id, c] : effective) {
    if (id == uuid)
      mine = all.size();
    all.push_back(c);
  }
  auto fair = codecs::share_capacity(all, cap_)[mine];
  auto grant = fair;
  if (cap_ > 0) {
    uint64_t others = 0;
    for (auto& [id, c] : claims_)
      if (id != uuid)
        others += c.current;
    uint32_t free = others < cap_ ? static_cast<uint32_t>(cap_ - others) : 0;
    grant = std::max(std::min(fair, free), std::min(d.floor, fair));
  }
  mine_claim.current = grant;
  return grant;
}

void capacity_pool::leave(const std::string& uuid) {
  std::lock_guard<std::mutex> guard{mtx_};
  claims_.erase(uuid);
}

} // namespace kesm::actors
