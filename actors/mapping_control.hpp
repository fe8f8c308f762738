#pragma once

#include <chrono>
#include <vector>

#include <caf/all.hpp>

#include "actors/supervisor.hpp"

namespace kesm::actors {

/// Blocking helpers for threads outside the actor system (the CLI's main
/// thread, the bench, tests). Never call them from an actor.

/// The mapping's status; a default (empty) status if it does not answer
/// within `timeout`.
mapping_status query_status(caf::actor_system& sys, const caf::actor& mapping,
                            std::chrono::milliseconds timeout
                            = std::chrono::milliseconds(5000));

/// Stops mappings cleanly (in-flight batches finish, offsets are committed,
/// consumers leave their groups) and waits until every one is gone.
void stop_mappings(caf::actor_system& sys,
                   const std::vector<caf::actor>& mappings);

} // namespace kesm::actors
