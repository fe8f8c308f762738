#include <algorithm>
#include <chrono>

#include "actors/handoff.hpp"
#include "actors/supervisor_state.hpp"
#include "codecs/mapping_json.hpp"

// What the supervisor does with each invocation's outcome (esm-spec.md
// section 4). The common case, a batch that succeeds first time, takes the
// fast path: offsets stored, batch done. A batch that fails is tracked
// until every one of its records is finished: delivered, written to the
// on-failure destination and acknowledged, or dropped. kesm decides:
// - a failed batch is split in halves (BisectBatchOnFunctionError) before
//   any retry; a split is not a retry attempt, and each half starts with
//   none used, so a poison record is isolated whatever the retry limit and
//   is then retried MaximumRetryAttempts times on its own;
// - records past MaximumRecordAgeInSeconds are given up before a retry;
// - a partial-batch answer finishes the records before each partition's
//   restart point and counts as a failed attempt of the rest;
// - pieces of one batch are invoked one at a time in offset order, and a
//   partition's offset is stored only over its finished prefix, so a crash
//   at any point redelivers and never skips.
namespace kesm::actors::detail {

namespace {

int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// Index of the part of `t.origin` that record `i` belongs to.
size_t part_of(const supervisor_state::tracked& t, uint32_t i) {
  auto it = std::upper_bound(t.part_start.begin(), t.part_start.end(),
                             static_cast<size_t>(i));
  return static_cast<size_t>(it - t.part_start.begin()) - 1;
}

} // namespace

bool supervisor_state::current(const batch& b) const {
  for (auto& part : b.parts)
    if (owns(part.partition, part.generation))
      return true;
  return false;
}

batch_ptr supervisor_state::make_piece_batch(
  const tracked& t, const std::vector<uint32_t>& idx) const {
  const auto& origin = *t.origin;
  auto b = std::make_shared<batch>();
  b->id = origin.id;
  b->poller = origin.poller;
  b->chunks = origin.chunks;
  b->records.reserve(idx.size());
  for (auto i : idx) {
    auto p = part_of(t, i);
    const auto& src = origin.parts[p];
    auto& r = origin.records[i];
    if (b->parts.empty() || b->parts.back().partition != src.partition) {
      batch_part part;
      part.partition = src.partition;
      part.generation = src.generation;
      part.first_offset = r.offset;
      b->parts.push_back(part);
    }
    auto& part = b->parts.back();
    part.last_offset = r.offset;
    ++part.count;
    b->records.push_back(r);
  }
  std::vector<codecs::partition_slice> slices;
  size_t pos = 0;
  for (auto& part : b->parts) {
    slices.push_back(codecs::partition_slice{
      topic(), part.partition, b->records.data() + pos, part.count});
    pos += part.count;
  }
  auto payload = std::make_shared<std::string>();
  writer->write(*payload, slices.data(), slices.size());
  b->payload = std::move(payload);
  return b;
}

void supervisor_state::on_outcome(const batch_ptr& b, outcome out) {
  ++status.invocations;
  auto records = static_cast<double>(b->record_count());
  bool not_sent = out.kind == outcome_kind::too_large
                  || out.kind == outcome_kind::schema_failed;
  if (!not_sent) {
    status.invoked_records += b->record_count();
    transport::count(counters.invoked, records);
    observe_invocation(*b, out);
  }
  if (out.kind != outcome_kind::success && !not_sent) {
    transport::count(counters.failed_invoke, records);
    transport::count(counters.invoke_errors);
  }
  auto owner = piece_owner.find(b.get());
  if (owner == piece_owner.end() && out.kind == outcome_kind::success) {
    // The fast path: an untracked batch that succeeded first time.
    store(*b);
    set_result("OK");
    handoff_send(b.get());
    self->send(batchers[b->poller], done_atom_v, b);
    return;
  }
  tracked* t = nullptr;
  if (owner == piece_owner.end()) {
    if (b->parts.empty() || tracked_batches.count(b.get()))
      return; // not ours (a stale piece of an abandoned batch)
    auto fresh = std::make_unique<tracked>();
    fresh->origin = b;
    fresh->record_state.assign(b->record_count(), tracked::open);
    size_t pos = 0;
    for (auto& part : b->parts) {
      fresh->part_start.push_back(pos);
      pos += part.count;
    }
    fresh->finished_prefix.assign(b->parts.size(), 0);
    piece p;
    p.idx.resize(b->record_count());
    for (uint32_t i = 0; i < p.idx.size(); ++i)
      p.idx[i] = i;
    p.sent = b;
    fresh->pieces.push_back(std::move(p));
    t = fresh.get();
    tracked_batches.emplace(b.get(), std::move(fresh));
  } else {
    t = owner->second;
    piece_owner.erase(owner);
  }
  t->out = false;
  status.batches_in_retry = tracked_batches.size();
  auto& p = t->pieces.front();
  if (!not_sent)
    ++p.invokes;
  if (stopping || !current(*t->origin)) {
    // Revoked or stopping: not retried; the records stay uncommitted and
    // are delivered again by the partition's next owner.
    abandon(*t);
    return;
  }
  switch (out.kind) {
    case outcome_kind::success:
      set_result("OK");
      for (auto i : p.idx)
        t->record_state[i] = tracked::done;
      t->finished_count += p.idx.size();
      t->pieces.pop_front();
      break;
    case outcome_kind::throttled:
      ++status.throttles;
      transport::count(counters.throttles);
      set_result("PROBLEM: " + out.detail);
      p.wait = std::max(opts.retry_backoff.delay(++p.throttles, rng),
                        std::chrono::milliseconds(
                          std::min<int64_t>(out.retry_after_ms, 300000)));
      break;
    case outcome_kind::too_large:
    case outcome_kind::schema_failed: {
      set_result("PROBLEM: " + out.detail);
      auto idx = std::move(p.idx);
      t->pieces.pop_front();
      give_up(*t, idx,
              out.kind == outcome_kind::too_large
                ? codecs::failure_condition::payload_size_exceeded
                : codecs::failure_condition::schema_validation_failed,
              nullptr, 0);
      break;
    }
    case outcome_kind::partial: {
      // Records before their partition's restart point are done.
      std::vector<uint32_t> rest;
      for (auto i : p.idx) {
        auto& part = t->origin->parts[part_of(*t, i)];
        auto r = std::find_if(out.restart.begin(), out.restart.end(),
                              [&](auto& e) { return e.first == part.partition; });
        if (r != out.restart.end()
            && t->origin->records[i].offset >= r->second) {
          rest.push_back(i);
        } else {
          t->record_state[i] = tracked::done;
          ++t->finished_count;
        }
      }
      p.idx = std::move(rest);
      p.sent = nullptr;
      on_failed_piece(*t, out);
      break;
    }
    case outcome_kind::function_error:
      on_failed_piece(*t, out);
      break;
  }
  advance(*t);
}

void supervisor_state::observe_invocation(const batch& b, const outcome& out) {
  auto seconds = static_cast<double>(out.micros) / 1e6;
  status.invoke_micros += static_cast<uint64_t>(std::max<int64_t>(0, out.micros));
  transport::observe(counters.invocation_seconds, seconds);
  transport::observe(counters.batch_records,
                     static_cast<double>(b.record_count()));
  if (b.payload)
    transport::observe(counters.batch_bytes,
                       static_cast<double>(b.payload->size()));
  if (counters.record_age_seconds != nullptr && !b.records.empty()) {
    int64_t oldest = b.records.front().timestamp;
    for (auto& r : b.records)
      oldest = std::min(oldest, r.timestamp);
    // When the call was made: the outcome's time minus its duration.
    auto at_call = static_cast<double>(epoch_ms()) / 1e3 - seconds;
    transport::observe(counters.record_age_seconds,
                       std::max(0.0, at_call - static_cast<double>(oldest)
                                                 / 1e3));
  }
}

void supervisor_state::on_failed_piece(tracked& t, const outcome& out) {
  ++status.function_errors;
  set_result("PROBLEM: " + out.detail);
  t.last_status = out.status;
  auto& p = t.pieces.front();
  ++p.attempts;
  auto& cfg = opts.config;
  if (cfg.max_record_age_s >= 0) {
    auto oldest = epoch_ms() - int64_t{cfg.max_record_age_s} * 1000;
    std::vector<uint32_t> expired, young;
    for (auto i : p.idx)
      (t.origin->records[i].timestamp < oldest ? expired : young).push_back(i);
    if (!expired.empty()) {
      p.idx = std::move(young);
      p.sent = nullptr;
      give_up(t, expired, codecs::failure_condition::record_age_exceeded,
              &out, p.invokes);
    }
  }
  auto& front = t.pieces.front();
  if (front.idx.empty()) {
    t.pieces.pop_front();
    return;
  }
  if (cfg.bisect_on_error && front.idx.size() > 1) {
    auto mid = front.idx.begin()
               + static_cast<ptrdiff_t>(front.idx.size() / 2);
    piece first, second;
    first.idx.assign(front.idx.begin(), mid);
    second.idx.assign(mid, front.idx.end());
    first.invokes = second.invokes = front.invokes;
    first.wait = opts.retry_backoff.delay(1, rng);
    t.pieces.pop_front();
    t.pieces.push_front(std::move(second));
    t.pieces.push_front(std::move(first));
    transport::count(counters.bisects);
    return;
  }
  auto limit = cfg.retry_limit();
  if (limit >= 0 && front.attempts > static_cast<uint32_t>(limit)) {
    auto idx = std::move(front.idx);
    auto invokes = front.invokes;
    t.pieces.pop_front();
    give_up(t, idx, codecs::failure_condition::retry_attempts_exhausted,
            &out, invokes);
    return;
  }
  front.wait = opts.retry_backoff.delay(front.attempts, rng);
  transport::count(counters.retries);
}

void supervisor_state::give_up(tracked& t, const std::vector<uint32_t>& idx,
                               codecs::failure_condition cond,
                               const outcome* last, uint32_t invokes) {
  auto& cfg = opts.config;
  auto why = std::string(codecs::to_string(cond));
  if (cfg.failure_topic.empty()) {
    for (auto i : idx)
      t.record_state[i] = tracked::done;
    t.finished_count += idx.size();
    status.dropped += idx.size();
    transport::count(counters.dropped, static_cast<double>(idx.size()));
    log(log_level::warning, "mapping " + status.uuid,
        "dropped " + std::to_string(idx.size()) + " records (" + why
          + ", no on-failure destination), first at offset "
          + std::to_string(t.origin->records[idx.front()].offset));
    return;
  }
  if (!sink) {
    transport::kafka_props props = opts.dead_letter_kafka;
    for (auto& [k, v] : opts.kafka)
      if (k.rfind("security.", 0) == 0 || k.rfind("sasl.", 0) == 0
          || k.rfind("ssl.", 0) == 0)
        props.emplace(k, v);
    auto made = transport::dead_letter_sink::connect(cfg.bootstrap_string(),
                                                     props);
    if (!made) {
      // Not expected (the consumer's configuration worked); the records
      // stay open and the batch is tried again from its failure.
      log(log_level::error, "mapping " + status.uuid, made.err().message);
      set_result("PROBLEM: on-failure destination: " + made.err().message);
      return;
    }
    sink = std::move(*made);
  }
  auto fn_arn = opts.function_arn.empty()
                  ? codecs::function_arn(cfg.function_name, {})
                  : opts.function_arn;
  auto bootstrap = cfg.bootstrap_string();
  codecs::dead_letter_source src{fn_arn, cfg.event_source_arn, bootstrap};
  codecs::dead_letter_response resp{
    last != nullptr ? last->status : 0,
    last == nullptr || last->kind != outcome_kind::partial,
    last != nullptr ? std::string_view(last->function_error_type)
                    : std::string_view(),
    last != nullptr ? std::string_view(last->executed_version)
                    : std::string_view()};
  auto now = epoch_ms();
  for (auto i : idx) {
    auto& r = t.origin->records[i];
    auto& part = t.origin->parts[part_of(t, i)];
    codecs::partition_slice one{topic(), part.partition, &r, 1};
    std::string event;
    writer->write(event, &one, 1);
    dead_letter dl;
    dl.owner = &t;
    dl.index = i;
    codecs::write_dead_letter(dl.value, src, codecs::make_uuid(), cond,
                              invokes, last != nullptr ? &resp : nullptr,
                              now, r, event);
    t.record_state[i] = tracked::writing;
    auto id = next_dead_letter++;
    dead_letters.emplace(id, std::move(dl));
    write_dead_letter(id);
  }
  log(log_level::warning, "mapping " + status.uuid,
      "writing " + std::to_string(idx.size()) + " records (" + why
        + ") to kafka://" + cfg.failure_topic);
}

void supervisor_state::write_dead_letter(uint64_t id) {
  auto it = dead_letters.find(id);
  if (it == dead_letters.end() || !sink)
    return;
  auto& dl = it->second;
  auto& r = dl.owner->origin->records[dl.index];
  sink->send(opts.config.failure_topic, r.key, r.key_len, dl.value, id);
  if (!sink_poll_armed) {
    sink_poll_armed = true;
    self->delayed_send(self, std::chrono::milliseconds(5), sink_atom_v);
  }
}

void supervisor_state::poll_sink() {
  sink_poll_armed = false;
  if (!sink)
    return;
  for (auto& rep : sink->poll()) {
    auto it = dead_letters.find(rep.id);
    if (it == dead_letters.end())
      continue; // its batch was abandoned meanwhile
    auto& dl = it->second;
    auto& t = *dl.owner;
    if (!t.out && (stopping || !current(*t.origin)) && !rep.error.empty()) {
      // Revoked or stopping while the destination refuses: give the batch
      // up uncommitted (its next owner, or the next start, delivers it).
      abandon(t);
      continue;
    }
    if (!rep.error.empty()) {
      ++status.dead_letter_errors;
      transport::count(counters.dlq_errors);
      set_result("PROBLEM: on-failure destination kafka://"
                 + opts.config.failure_topic + " not written: " + rep.error);
      auto delay = opts.retry_backoff.delay(++dl.attempts, rng);
      self->delayed_send(self, delay, sink_atom_v, rep.id);
      continue;
    }
    ++status.dead_lettered;
    transport::count(counters.dlq_delivered);
    t.record_state[dl.index] = tracked::done;
    ++t.finished_count;
    dead_letters.erase(it);
    if (!t.out && !current(*t.origin))
      abandon(t);
    else
      advance(t);
  }
  if (sink->in_flight() > 0 && !sink_poll_armed && !closed) {
    sink_poll_armed = true;
    self->delayed_send(self, std::chrono::milliseconds(5), sink_atom_v);
  }
}

void supervisor_state::advance(tracked& t) {
  auto& origin = *t.origin;
  transport::tpl_ptr list;
  for (size_t j = 0; j < origin.parts.size(); ++j) {
    auto& part = origin.parts[j];
    auto& done = t.finished_prefix[j];
    auto before = done;
    while (done < part.count
           && t.record_state[t.part_start[j] + done] == tracked::done)
      ++done;
    if (done == before)
      continue;
    if (!owns(part.partition, part.generation))
      continue;
    // Past the last finished record; the full prefix also covers records
    // the reader left out after the part.
    auto next = done == part.count
                  ? part.next_offset()
                  : origin.records[t.part_start[j] + done - 1].offset + 1;
    stage_commit(list, part.partition, next, done - before);
  }
  store_offsets(list);
  if (t.finished_count == origin.record_count()) {
    auto b = t.origin;
    tracked_batches.erase(b.get());
    status.batches_in_retry = tracked_batches.size();
    handoff_send(b.get());
    self->send(batchers[b->poller], done_atom_v, b);
    return;
  }
  if (t.out || t.pieces.empty())
    return; // waiting for an outcome, or for dead letters
  auto& p = t.pieces.front();
  if (!p.sent)
    p.sent = make_piece_batch(t, p.idx);
  piece_owner[p.sent.get()] = &t;
  t.out = true;
  handoff_send(p.sent.get());
  if (p.wait.count() > 0)
    self->delayed_send(invokers[origin.poller], p.wait, p.sent);
  else
    self->send(invokers[origin.poller], p.sent);
  p.wait = std::chrono::milliseconds{0};
}

void supervisor_state::abandon(tracked& t) {
  for (auto it = dead_letters.begin(); it != dead_letters.end();)
    it = it->second.owner == &t ? dead_letters.erase(it) : std::next(it);
  auto b = t.origin;
  tracked_batches.erase(b.get());
  status.batches_in_retry = tracked_batches.size();
  handoff_send(b.get());
  self->send(batchers[b->poller], done_atom_v, b);
}

} // namespace kesm::actors::detail
