#include "actors/capacity_pool.hpp"

#include <vector>

namespace kesm::actors {

uint32_t capacity_pool::share(const std::string& uuid, const std::string& group,
                              codecs::capacity_demand d) {
  std::lock_guard<std::mutex> guard{mtx_};
  claims_[uuid] = claim{group, d};
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
  return codecs::share_capacity(all, cap_)[mine];
}

void capacity_pool::leave(const std::string& uuid) {
  std::lock_guard<std::mutex> guard{mtx_};
  claims_.erase(uuid);
}

} // namespace kesm::actors
