#pragma once

#include <caf/all.hpp>

#include "actors/batch.hpp"
#include "transport/function_target.hpp"

/// Messages between kesm's actors. Every payload type here is local-only
/// (never serialized), so the shared pointers cross actors without copies.
CAF_BEGIN_TYPE_ID_BLOCK(kesm, caf::first_custom_type_id)
  /// librdkafka queue became non-empty (reader, supervisor).
  CAF_ADD_ATOM(kesm, kesm::actors, wake_atom, "k_wake")
  /// Records handed back by a finished batch (batcher -> reader).
  CAF_ADD_ATOM(kesm, kesm::actors, credit_atom, "k_credit")
  /// Window timer of the batcher (batcher -> itself).
  CAF_ADD_ATOM(kesm, kesm::actors, window_atom, "k_window")
  /// A batch is done with; frees its partitions (supervisor -> batcher).
  CAF_ADD_ATOM(kesm, kesm::actors, done_atom, "k_done")
  /// A partition joins or leaves a poller (supervisor -> batcher).
  CAF_ADD_ATOM(kesm, kesm::actors, assign_atom, "k_assign")
  CAF_ADD_ATOM(kesm, kesm::actors, revoke_atom, "k_revoke")
  /// Invocation finished (transport -> invoker, invoker -> supervisor).
  CAF_ADD_ATOM(kesm, kesm::actors, result_atom, "k_result")
  CAF_ADD_ATOM(kesm, kesm::actors, outcome_atom, "k_outcome")
  /// Periodic housekeeping (supervisor -> itself).
  CAF_ADD_ATOM(kesm, kesm::actors, tick_atom, "k_tick")
  /// Stop dispatching new batches; finish what is in flight.
  CAF_ADD_ATOM(kesm, kesm::actors, drain_atom, "k_drain")
  /// Records a reader passed over before the starting timestamp
  /// (reader -> supervisor): `(skipped_atom, partition, generation, next)`.
  CAF_ADD_ATOM(kesm, kesm::actors, skipped_atom, "k_skipped")
  /// A control-plane request (API server -> registry).
  CAF_ADD_ATOM(kesm, kesm::actors, api_atom, "k_api")
  /// On-failure destination: poll acknowledgements, write one again
  /// (supervisor -> itself).
  CAF_ADD_ATOM(kesm, kesm::actors, sink_atom, "k_sink")
  /// A live configuration change (registry -> supervisor -> batchers).
  CAF_ADD_ATOM(kesm, kesm::actors, config_atom, "k_config")
  /// Status query (anyone -> supervisor).
  CAF_ADD_ATOM(kesm, kesm::actors, status_atom, "k_status")
  /// A poller's share of invocation slots changed (supervisor -> batcher).
  CAF_ADD_ATOM(kesm, kesm::actors, slots_atom, "k_slots")
  /// The config file was read again (CLI -> registry, on SIGHUP).
  CAF_ADD_ATOM(kesm, kesm::actors, reload_atom, "k_reload")
  /// A schema a parked chunk waits for was fetched, or the registry may be
  /// back (schema registry client / timer -> reader).
  CAF_ADD_ATOM(kesm, kesm::actors, schema_atom, "k_schema")
  /// Fetch restarts: the supervisor's fetch-stall check (its own timer,
  /// `kick_atom`), or a restart of one partition's fetch at an offset
  /// (`(kick_atom, partition, generation, next_offset)`, tests).
  CAF_ADD_ATOM(kesm, kesm::actors, kick_atom, "k_kick")
CAF_END_TYPE_ID_BLOCK(kesm)

namespace kesm::actors {

/// The CAF configuration every kesm actor system uses (the CLI's commands
/// and the embedding API): kesm's message types registered, and work
/// stealing's middle phase tuned. An idle worker polls for work (and tries
/// to steal) every 500 us for up to 250 ms before it sleeps on its queue,
/// instead of CAF's every 50 us, stealing every fifth time, for 25 ms:
/// the same number of wake-ups per idle spell, a tenth of them a
/// millisecond. The bench: 10-20 % less CPU per record at the same
/// latency (docs/benchmarks.md, "Work stealing"); skipping the phase
/// (`moderate-poll-attempts=0`) saved more CPU but tripled p99 latency,
/// since work another worker queued is then stolen only every 10 ms.
struct actor_config : caf::actor_system_config {
  actor_config() {
    add_message_types<caf::id_block::kesm>();
    set("work-stealing.moderate-sleep-duration",
        caf::timespan{std::chrono::microseconds{500}});
    set("work-stealing.moderate-steal-interval", size_t{1});
  }
};

} // namespace kesm::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kesm::actors::batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kesm::transport::chunk_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kesm::actors::outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kesm::transport::invocation_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(kesm::transport::function_target_ptr)
