#include "actors/batcher.hpp"

#include <vector>

#include "actors/handoff.hpp"

namespace kesm::actors {

namespace {

using self_ptr = caf::stateful_actor<batcher_state>*;


/// Takes up to `max_count` records of `p` within `budget` bytes into `b`;
/// `budget` shrinks by what they cost (their partition's overhead included).
void take(batcher_state::partition& p, batch& b, size_t max_count,
          size_t& budget, size_t& bound) {
  auto& st_first = p.pending.front();
  auto topic = st_first.chunk->topic;
  auto partition = st_first.chunk->partition;
  size_t part_cost = codecs::event_writer::partition_size(topic, partition)
                     + 1;
  batch_part part;
  part.partition = partition;
  part.generation = p.generation;
  bool first_of_batch = b.records.empty();
  if (part_cost > budget && !first_of_batch)
    return;
  budget = part_cost > budget ? 0 : budget - part_cost;
  bound += part_cost;
  while (!p.pending.empty() && part.count < max_count) {
    auto& sp = p.pending.front();
    const auto& c = *sp.chunk;
    auto& r = c.records[sp.next];
    size_t cost = p.fixed_cost + c.costs[sp.next];
    // The first record of a batch always goes: a record too big for any
    // event must still leave the partition (the supervisor decides).
    if (cost > budget && !(first_of_batch && b.records.empty()))
      break;
    // A record that failed its schema check travels alone (it is not
    // sent; the supervisor dead-letters it), in its place in the order.
    if (r.schema_error != nullptr && !b.records.empty())
      break;
    budget = cost > budget ? 0 : budget - cost;
    bound += cost;
    if (part.count == 0)
      part.first_offset = r.offset;
    part.last_offset = r.offset;
    ++part.count;
    part.bytes += r.key_len + r.value_len + transport::record_overhead;
    for (size_t h = 0; h < r.header_count; ++h)
      part.bytes += r.headers[h].value_len;
    b.records.push_back(r);
    p.pending_cost -= std::min(p.pending_cost, cost);
    --p.pending_count;
    if (b.chunks.empty() || b.chunks.back() != sp.chunk)
      b.chunks.push_back(sp.chunk);
    if (++sp.next == c.records.size()) {
      part.commit_to = sp.end;
      p.pending.pop_front();
    } else {
      part.commit_to = 0;
    }
    if (r.schema_error != nullptr) {
      b.schema_error = r.schema_error;
      break;
    }
  }
  if (part.count > 0) {
    p.in_flight = true;
    b.parts.push_back(part);
  }
}

void cut(self_ptr self) {
  auto& st = self->state;
  auto b = std::make_shared<batch>();
  b->id = st.next_batch_id++;
  b->poller = st.cfg.poller;
  b->records = transport::record_view_pool().take(st.cfg.batch_size);
  size_t budget = st.cfg.max_payload - st.writer->frame_size();
  // What the event takes at most, from the same size functions.
  size_t bound = st.writer->frame_size();
  auto it = st.parts.lower_bound(st.cursor);
  for (size_t visited = 0; visited < st.parts.size(); ++visited, ++it) {
    if (it == st.parts.end())
      it = st.parts.begin();
    auto& p = it->second;
    if (p.in_flight || p.pending_count == 0)
      continue;
    size_t room = st.cfg.batch_size - b->records.size();
    if (room == 0 || budget == 0)
      break;
    take(p, *b, room, budget, bound);
    st.cursor = it->first + 1;
    if (b->schema_error != nullptr)
      break; // alone in its batch
  }
  if (b->records.empty())
    return;
  std::vector<codecs::partition_slice> slices;
  slices.reserve(b->parts.size());
  size_t pos = 0;
  const auto& topic = b->chunks.front()->topic;
  for (auto& part : b->parts) {
    slices.push_back(codecs::partition_slice{topic, part.partition,
                                             b->records.data() + pos,
                                             part.count});
    pos += part.count;
  }
  auto payload = st.payloads->take();
  st.writer->overwrite(*payload, slices.data(), slices.size(), bound);
  b->payload = std::move(payload);
  ++st.in_flight;
  handoff_send(b.get());
  self->send(st.invoker, batch_ptr{std::move(b)});
}

void arm_timer(self_ptr self, caf::actor_clock::time_point deadline) {
  auto& st = self->state;
  if (st.timer_armed && st.timer_deadline <= deadline)
    return;
  st.timer_armed = true;
  st.timer_deadline = deadline;
  auto now = self->clock().now();
  auto delay = deadline > now ? deadline - now
                              : caf::actor_clock::duration_type{0};
  self->delayed_send(self, delay, window_atom_v, ++st.timer_id);
}

void dispatch(self_ptr self) {
  auto& st = self->state;
  while (!st.draining && st.in_flight < st.cfg.max_in_flight) {
    size_t count = 0, cost = 0;
    bool any = false;
    caf::actor_clock::time_point oldest;
    for (auto& [id, p] : st.parts) {
      if (p.in_flight || p.pending_count == 0)
        continue;
      count += p.pending_count;
      cost += p.pending_cost;
      if (!any || p.oldest < oldest)
        oldest = p.oldest;
      any = true;
    }
    if (!any)
      return;
    auto deadline = oldest + st.cfg.window;
    bool due = st.cfg.window.count() == 0 || count >= st.cfg.batch_size
               || cost + st.writer->frame_size() >= st.cfg.max_payload
               || self->clock().now() >= deadline;
    if (!due) {
      arm_timer(self, deadline);
      return;
    }
    cut(self);
  }
}

void finish_drain(self_ptr self) {
  auto& st = self->state;
  if (!st.draining || st.in_flight > 0)
    return;
  for (auto& rp : st.drain_waiters)
    rp.deliver(true);
  st.drain_waiters.clear();
}

} // namespace

caf::behavior batcher(caf::stateful_actor<batcher_state>* self,
                      batcher_config cfg,
                      std::shared_ptr<const codecs::event_writer> writer,
                      caf::actor invoker) {
  auto& st = self->state;
  st.cfg = cfg;
  st.writer = std::move(writer);
  st.invoker = std::move(invoker);
  return {
    [=](assign_atom, int32_t partition, uint64_t generation,
        caf::actor reader) {
      auto& p = self->state.parts[partition];
      p = batcher_state::partition{};
      p.reader = std::move(reader);
      p.generation = generation;
    },
    [=](revoke_atom, int32_t partition) { self->state.parts.erase(partition); },
    [=](const transport::chunk_ptr& chunk) {
      handoff_receive(chunk.get());
      auto i = self->state.parts.find(chunk->partition);
      if (i == self->state.parts.end())
        return; // revoked meanwhile: the next owner reads these again
      auto& p = i->second;
      if (chunk->records.empty()) {
        // All left out (filtered): commit past them in order.
        if (!p.pending.empty())
          p.pending.back().end = chunk->next_offset;
        else if (p.in_flight)
          p.skip_to = chunk->next_offset;
        else if (self->state.cfg.supervisor)
          self->send(self->state.cfg.supervisor, skipped_atom_v,
                     chunk->partition, p.generation, chunk->next_offset);
        return;
      }
      if (p.pending_count == 0)
        p.oldest = self->clock().now();
      if (p.fixed_cost == 0)
        p.fixed_cost = codecs::event_writer::record_fixed_size(
          chunk->topic, chunk->partition);
      for (auto c : chunk->costs)
        p.pending_cost += p.fixed_cost + c;
      p.pending_count += chunk->records.size();
      p.pending.push_back(batcher_state::span{chunk, 0, chunk->next_offset});
      dispatch(self);
    },
    [=](done_atom, const batch_ptr& b) {
      handoff_receive(b.get());
      auto& st = self->state;
      if (st.in_flight > 0)
        --st.in_flight;
      for (auto& part : b->parts) {
        auto i = st.parts.find(part.partition);
        if (i == st.parts.end() || i->second.generation != part.generation)
          continue;
        auto& p = i->second;
        p.in_flight = false;
        self->send(p.reader, credit_atom_v, static_cast<uint64_t>(part.count),
                   static_cast<uint64_t>(part.bytes));
        if (p.skip_to >= 0) {
          if (st.cfg.supervisor)
            self->send(st.cfg.supervisor, skipped_atom_v, part.partition,
                       p.generation, p.skip_to);
          p.skip_to = -1;
        }
      }
      dispatch(self);
      finish_drain(self);
    },
    [=](window_atom, uint64_t id) {
      auto& st = self->state;
      if (id != st.timer_id)
        return;
      st.timer_armed = false;
      dispatch(self);
    },
    [=](config_atom, uint64_t batch_size, int64_t window_ms) {
      auto& st = self->state;
      st.cfg.batch_size = static_cast<size_t>(batch_size);
      st.cfg.window = std::chrono::milliseconds{window_ms};
      st.timer_armed = false; // a new deadline may be earlier
      ++st.timer_id;
      dispatch(self);
    },
    [=](slots_atom, uint64_t max_in_flight) {
      // More slots take effect at once; fewer as calls finish.
      self->state.cfg.max_in_flight = static_cast<size_t>(max_in_flight);
      dispatch(self);
    },
    [=](drain_atom) -> caf::result<bool> {
      auto& st = self->state;
      st.draining = true;
      if (st.in_flight == 0)
        return true;
      auto rp = self->make_response_promise();
      st.drain_waiters.push_back(rp);
      return caf::delegated<bool>{};
    },
  };
}

} // namespace kesm::actors
