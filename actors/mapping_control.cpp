#include "actors/mapping_control.hpp"

#include "actors/atoms.hpp"

namespace kesm::actors {

mapping_status query_status(caf::actor_system& sys, const caf::actor& mapping,
                            std::chrono::milliseconds timeout) {
  caf::scoped_actor self{sys};
  mapping_status st;
  self->request(mapping, timeout, status_atom_v)
    .receive([&](const mapping_status& s) { st = s; },
             [](const caf::error&) {
               // no answer: the empty status says so
             });
  return st;
}

void stop_mappings(caf::actor_system& sys,
                   const std::vector<caf::actor>& mappings) {
  caf::scoped_actor self{sys};
  size_t waiting = 0;
  for (auto& m : mappings) {
    if (!m)
      continue;
    self->monitor(m);
    caf::anon_send_exit(m, caf::exit_reason::user_shutdown);
    ++waiting;
  }
  for (size_t i = 0; i < waiting; ++i)
    self->receive([](const caf::down_msg&) {
      // one mapping is down
    });
}

} // namespace kesm::actors
