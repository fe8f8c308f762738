#include "actors/partition_reader.hpp"

#include <algorithm>

#include "actors/handoff.hpp"
#include "transport/log.hpp"

namespace kesm::actors {

namespace {

using self_ptr = caf::stateful_actor<reader_state>*;

/// Drops the records older than `skip_before_ts` from the front of
/// `chunk`; stops skipping at the first record at or after it.
void skip_old_records(self_ptr self, transport::record_chunk& chunk) {
  auto& st = self->state;
  auto& recs = chunk.records;
  size_t n = 0;
  while (n < recs.size() && recs[n].timestamp < st.skip_before_ts)
    ++n;
  if (n == 0 && !recs.empty()) {
    st.skip_before_ts = -1;
    return;
  }
  auto next = recs[n - 1].offset + 1;
  size_t i = 0;
  transport::retain_records(chunk, [&](const codecs::record_view&) {
    return i++ >= n;
  });
  if (!recs.empty())
    st.skip_before_ts = -1;
  self->send(st.supervisor, skipped_atom_v, st.partition, st.generation,
             next);
}

void drain(self_ptr self);

/// Filters `chunk` and hands it to the batcher.
void deliver(self_ptr self, std::shared_ptr<transport::record_chunk> chunk) {
  auto& st = self->state;
  size_t filtered = 0;
  if (!st.filter.empty() && !chunk->records.empty()) {
    filtered = transport::retain_records(
      *chunk, [&](const codecs::record_view& r) {
        // A record that failed its schema check is not filtered: it goes
        // to the on-failure destination.
        return r.schema_error != nullptr
               || st.filter.matches(r.value, r.value_len, r.key, r.key_len);
      });
    transport::count(st.filtered_out, static_cast<double>(filtered));
  }
  if (!chunk->records.empty() || filtered > 0) {
    st.outstanding_records += chunk->records.size();
    st.outstanding_bytes += chunk->bytes;
    handoff_send(chunk.get());
    self->send(st.batcher, transport::chunk_ptr{std::move(chunk)});
  }
}

/// Decodes the parked chunk on; delivers it when done.
void decode_parked(self_ptr self) {
  auto& st = self->state;
  if (!st.parked || !st.schemas)
    return;
  auto hdl = caf::actor_cast<caf::actor>(self);
  auto step = transport::decode_chunk(*st.parked, st.parked_next, *st.schemas,
                                      [hdl] { caf::anon_send(hdl, schema_atom_v); });
  transport::count(st.schema_errors, static_cast<double>(step.failed));
  using state = transport::decode_step::state;
  if (step.st == state::waiting)
    return;
  if (step.st == state::unavailable) {
    self->send(st.supervisor, wake_atom_v, step.error);
    if (!st.retry_armed) {
      st.retry_armed = true;
      self->delayed_send(self, std::chrono::seconds(1), schema_atom_v);
    }
    return;
  }
  auto chunk = std::move(st.parked);
  st.parked.reset();
  st.parked_next = 0;
  st.probe->parked.store(false, std::memory_order_relaxed);
  deliver(self, std::move(chunk));
  self->send(self, wake_atom_v); // drain on
}

/// Drops the records before `next_offset` (delivered already: the fetch
/// restarted behind them) from the first `n` of `msgs`; returns how many
/// are left, in order.
size_t drop_repeats(reader_state& st, rd_kafka_message_t** msgs, size_t n) {
  size_t kept = 0, dropped = 0;
  int64_t first = -1;
  for (size_t i = 0; i < n; ++i) {
    auto* m = msgs[i];
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->offset < st.next_offset) {
        if (dropped++ == 0)
          first = m->offset;
        rd_kafka_message_destroy(m);
        continue;
      }
      st.next_offset = m->offset + 1;
    }
    msgs[kept++] = m;
  }
  if (dropped > 0)
    transport::log(transport::log_level::debug,
                   "reader " + st.topic + "-" + std::to_string(st.partition),
                   "dropped " + std::to_string(dropped)
                     + " records from offset " + std::to_string(first)
                     + " passed on before a fetch restart");
  return kept;
}

size_t byte_limit(const reader_state& st) {
  return st.limits.max_bytes + (st.share ? st.share->granted() : 0);
}

/// Bytes the reader may take now, and (when that is under a drain step of
/// records at the last chunk's bytes a record) how many records its queue
/// holds in `queued`. With the budget it first asks for steps until what
/// its queue holds (a drain step at most) fits, while steps are free; at
/// the limit with none free, the budget's wake-up (or credit) drains
/// again.
size_t byte_room(reader_state& st, size_t& queued) {
  auto room = [&st] {
    auto limit = byte_limit(st);
    return limit > st.outstanding_bytes ? limit - st.outstanding_bytes : 0;
  };
  queued = st.limits.drain_step;
  if (room() >= queued * st.record_bytes)
    return room();
  queued = std::min(queued, rd_kafka_queue_length(st.queue->get()));
  if (st.budget)
    while (room() < queued * st.record_bytes
           && st.budget->ask(st.share) == reader_budget::answer::granted) {
      // one more step
    }
  return room();
}

/// Gives back the budget's steps the reader holds and does not need (it
/// found its queue empty, or was granted a step after it had emptied it).
void settle(reader_state& st) {
  if (st.budget)
    st.budget->settle(*st.share, st.outstanding_bytes, st.limits.max_bytes);
}

void drain(self_ptr self) {
  auto& st = self->state;
  if (!st.queue || st.parked)
    return;
  if (st.outstanding_records >= st.limits.max_records)
    return; // credit will call us again
  // Re-armed after the last take and nothing enqueued since (that would
  // have set the signal and sent a wake-up): the queue is empty. Credit
  // from each finished batch lands here; no take to find nothing.
  if (st.signal->armed_and_quiet()) {
    settle(st);
    return;
  }
  size_t queued = 0;
  auto room = byte_room(st, queued);
  // At the limit, wait until a fair take fits (a drain step of records,
  // or half the limit) rather than take a few records at each batch's
  // credit: chunks stay large (a 64-partition bench run: 559 records a
  // chunk, 490 without this). The records in flight, over half the limit,
  // bring that credit.
  auto fair = std::min(st.limits.drain_step * st.record_bytes,
                       byte_limit(st) / 2);
  if (room == 0 || (room < fair && room < queued * st.record_bytes))
    return; // credit (or the budget's wake-up) will call us again
  size_t fit = room / st.record_bytes + 1;
  size_t want = std::min({st.limits.drain_step,
                          st.limits.max_records - st.outstanding_records, fit});
  st.scratch.resize(want);
  auto n = rd_kafka_consume_batch_queue(st.queue->get(), 0,
                                        st.scratch.data(), want);
  // Re-arm only now (records enqueued during the take came with it), so
  // a clear signal means an empty queue (the check above). More queued
  // (a full take, or an enqueue between the take and the re-arm, which
  // sent nothing) means wake ourselves, unless a wake-up is on its way
  // already. A second take in a row of nothing from a queue that says it
  // is not empty wakes us 10 ms later instead: whatever librdkafka left
  // there that is not a record must not make the reader spin.
  bool nothing = n <= 0;
  if (st.signal->rearm_after_take(st.queue->get())) {
    if (nothing && st.woke_on_nothing)
      self->delayed_send(self, std::chrono::milliseconds(10), wake_atom_v);
    else
      self->send(self, wake_atom_v);
    st.woke_on_nothing = nothing;
  } else {
    st.woke_on_nothing = false;
  }
  if (nothing) {
    settle(st);
    return;
  }
  auto kept = drop_repeats(st, st.scratch.data(), static_cast<size_t>(n));
  // Relaxed: the supervisor only needs to see them change eventually, and
  // a stale offset restarts the fetch behind us (repeats are dropped).
  st.probe->next_offset.store(st.next_offset, std::memory_order_relaxed);
  st.probe->data_seq.fetch_add(1, std::memory_order_relaxed);
  if (kept == 0)
    return;
  std::vector<std::string> errors;
  auto chunk = transport::make_chunk(st.topic, st.partition,
                                     st.scratch.data(), kept, &errors);
  if (!chunk->records.empty())
    st.record_bytes = std::max<size_t>(1, chunk->bytes / chunk->records.size());
  transport::count(st.polled, static_cast<double>(chunk->records.size()));
  transport::count(st.throughput, static_cast<double>(
                                    chunk->bytes
                                    - chunk->records.size()
                                        * transport::record_overhead));
  for (auto& e : errors)
    self->send(st.supervisor, wake_atom_v,
               "fetch error on " + st.topic + "-"
                 + std::to_string(st.partition) + ": " + e);
  if (st.skip_before_ts >= 0)
    skip_old_records(self, *chunk);
  if (st.schemas && !chunk->records.empty()) {
    st.parked = std::move(chunk);
    st.parked_next = 0;
    st.probe->parked.store(true, std::memory_order_relaxed);
    decode_parked(self); // delivers and drains on when all is cached
    return;
  }
  deliver(self, std::move(chunk));
}

} // namespace

caf::behavior partition_reader(caf::stateful_actor<reader_state>* self,
                               std::string topic, int32_t partition,
                               uint64_t generation, int64_t skip_before_ts,
                               std::shared_ptr<watched_queue> queue,
                               wake_signal* signal, caf::actor batcher,
                               caf::actor supervisor, reader_limits limits,
                               std::shared_ptr<reader_probe> probe,
                               transport::mapping_counters counters,
                               filter_ptr filter,
                               transport::schema_decoding_ptr schemas,
                               reader_budget_ptr budget) {
  auto& st = self->state;
  st.topic = std::move(topic);
  st.partition = partition;
  st.generation = generation;
  st.skip_before_ts = skip_before_ts;
  st.queue = std::move(queue);
  st.signal = signal;
  st.batcher = std::move(batcher);
  st.supervisor = std::move(supervisor);
  st.limits = limits;
  st.probe = std::move(probe);
  st.polled = counters.polled;
  st.throughput = counters.throughput_bytes;
  st.filtered_out = counters.filtered_out;
  st.schemas = std::move(schemas);
  st.schema_errors = counters.schema_errors;
  if (filter)
    st.filter = filter->clone();
  if (budget) {
    st.budget = std::move(budget);
    st.share = st.budget->open(
      [hdl = caf::actor_cast<caf::actor>(self)] {
        caf::anon_send(hdl, wake_atom_v);
      });
  }
  self->set_exit_handler([=](caf::exit_msg& msg) {
    self->state.queue.reset(); // release the librdkafka queue at once
    self->quit(msg.reason);
  });
  return {
    [=](wake_atom) { drain(self); },
    [=](schema_atom) {
      self->state.retry_armed = false;
      decode_parked(self);
    },
    [=](config_atom, const filter_ptr& next, uint64_t batch_size) {
      auto& st = self->state;
      st.filter = next ? next->clone() : codecs::record_filter{};
      // A full batch must fit, or the batcher would wait for the window.
      st.limits.max_records = std::max(st.limits.max_records,
                                       static_cast<size_t>(batch_size));
      drain(self);
    },
    [=](credit_atom, uint64_t records, uint64_t bytes) {
      auto& st = self->state;
      st.outstanding_records -= std::min<size_t>(st.outstanding_records,
                                                 records);
      st.outstanding_bytes -= std::min<size_t>(st.outstanding_bytes, bytes);
      settle(st);
      drain(self);
    },
  };
}

} // namespace kesm::actors
