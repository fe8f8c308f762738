#include "actors/supervisor_state.hpp"

#include <algorithm>
#include <cstring>

#include "actors/batcher.hpp"
#include "actors/handoff.hpp"
#include "actors/partition_reader.hpp"

// The supervisor's dealings with its librdkafka consumer: rebalances, start
// offsets, offset store and commits, the consumer queue, the final close.
namespace kesm::actors::detail {

void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                  rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto* st = static_cast<supervisor_state*>(opaque);
  transport::count(st->counters.rebalances);
  bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk),
                                 "COOPERATIVE")
                     == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    st->resolve_start_offsets(parts);
    st->assign(parts);
    if (cooperative)
      rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
    else
      rd_kafka_assign(rk, parts);
  } else {
    if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
      log(log_level::error, "mapping " + st->status.uuid,
          std::string("rebalance failed: ") + rd_kafka_err2str(err));
    st->revoke(parts);
    if (cooperative)
      rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
    else
      rd_kafka_assign(rk, nullptr);
  }
}

namespace {

/// Lambda's StateTransitionReason when `code` means the cluster refused
/// this consumer, else null.
const char* access_failure(rd_kafka_resp_err_t code,
                           std::string_view reason) {
  switch (code) {
    case RD_KAFKA_RESP_ERR__AUTHENTICATION: // SASL refused
    case RD_KAFKA_RESP_ERR__SSL:            // handshake: CA, expiry, protocol
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
      return "EVENT_SOURCE_AUTHN_ERROR";
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
      return "EVENT_SOURCE_AUTHZ_ERROR";
    case RD_KAFKA_RESP_ERR__TRANSPORT:
      // TLS 1.3: the broker refuses a client certificate after the
      // client's side of the handshake, as an alert on the first read.
      if (reason.find("SSL") != std::string_view::npos
          && reason.find("alert") != std::string_view::npos)
        return "EVENT_SOURCE_AUTHN_ERROR";
      return nullptr;
    default:
      return nullptr;
  }
}

} // namespace

void supervisor_state::fail_access(std::string reason, const char* transition) {
  transport::count(counters.polling_errors);
  if (stopping || access_failed)
    return;
  access_failed = true;
  bool authz = std::string_view(transition) == "EVENT_SOURCE_AUTHZ_ERROR";
  set_result(std::string(authz ? "PROBLEM: Authorization error: "
                               : "PROBLEM: Authentication error: ")
             + reason
             + (authz ? "; grant this principal access to the topic and group"
                      : "; check the secret in SourceAccessConfigurations and"
                        " the cluster's CA"));
  // Stop, and let the registry start the mapping again with backoff: each
  // start reads the secrets anew, so a fixed or rotated secret is used.
  self->send_exit(self, caf::make_error(caf::sec::runtime_error,
                                        status.last_processing_result,
                                        std::string(transition)));
}

void on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* st = static_cast<supervisor_state*>(opaque);
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (auto* transition = access_failure(code, reason)) {
    st->fail_access(reason, transition);
    return;
  }
  if (st->access_failed)
    return; // stopping; keep the refusal as the result
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN
      || code == RD_KAFKA_RESP_ERR__TRANSPORT
      || code == RD_KAFKA_RESP_ERR__RESOLVE
      || code == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
    transport::count(st->counters.polling_errors);
    st->set_result(std::string("PROBLEM: Connection error: ") + reason
                   + "; check the bootstrap servers and that the cluster is"
                     " reachable");
  } else
    log(log_level::warning, "mapping " + st->status.uuid,
        std::string("Kafka: ") + reason);
}

void supervisor_state::resolve_start_offsets(
  rd_kafka_topic_partition_list_t* parts) {
  // The starting position applies only where the group has no commit.
  transport::tpl_ptr committed{rd_kafka_topic_partition_list_copy(parts)};
  auto err = rd_kafka_committed(rk.get(), committed.get(), 10000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Leave offsets unset: librdkafka then uses the committed offset, or
    // auto.offset.reset (set from StartingPosition) where there is none.
    log(log_level::warning, "mapping " + status.uuid,
        std::string("committed-offset lookup failed, relying on the"
                    " broker: ")
          + rd_kafka_err2str(err));
    return;
  }
  transport::tpl_ptr by_time{rd_kafka_topic_partition_list_new(parts->cnt)};
  for (int i = 0; i < parts->cnt; ++i) {
    auto& e = parts->elems[i];
    auto* c = rd_kafka_topic_partition_list_find(committed.get(), e.topic,
                                                 e.partition);
    if (c != nullptr && c->offset >= 0) {
      e.offset = c->offset;
      continue;
    }
    switch (opts.config.start) {
      case codecs::starting_position::trim_horizon:
        e.offset = RD_KAFKA_OFFSET_BEGINNING;
        break;
      case codecs::starting_position::latest: {
        // Resolved now, not lazily: records produced after the assignment
        // is reported must not be skipped.
        int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(rk.get(), e.topic, e.partition,
                                             &lo, &hi, 10000)
            == RD_KAFKA_RESP_ERR_NO_ERROR)
          e.offset = hi;
        else
          e.offset = RD_KAFKA_OFFSET_END;
        break;
      }
      case codecs::starting_position::at_timestamp:
        rd_kafka_topic_partition_list_add(by_time.get(), e.topic, e.partition)
          ->offset = opts.config.start_timestamp_ms;
        break;
    }
  }
  if (by_time->cnt == 0)
    return;
  err = rd_kafka_offsets_for_times(rk.get(), by_time.get(), 10000);
  for (int i = 0; i < by_time->cnt; ++i) {
    auto& t = by_time->elems[i];
    auto* e = rd_kafka_topic_partition_list_find(parts, t.topic, t.partition);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && t.err == RD_KAFKA_RESP_ERR_NO_ERROR
        && t.offset >= 0) {
      e->offset = t.offset;
    } else {
      // The broker has no answer (none later, or no timestamp index, as
      // with the embedded broker): read from the start and pass over the
      // older records here. Exact either way, only slower.
      e->offset = RD_KAFKA_OFFSET_BEGINNING;
      skip_before[t.partition] = opts.config.start_timestamp_ms;
    }
  }
}

void supervisor_state::assign(rd_kafka_topic_partition_list_t* parts) {
  std::string list;
  for (int i = 0; i < parts->cnt; ++i) {
    auto& e = parts->elems[i];
    auto gen = next_generation++;
    auto poller = static_cast<size_t>(e.partition) % batchers.size();
    transport::queue_ptr q{
      rd_kafka_queue_get_partition(rk.get(), e.topic, e.partition)};
    rd_kafka_queue_forward(q.get(), nullptr); // this partition's own queue
    auto wq = std::make_shared<watched_queue>(std::move(q));
    // Pending from the start: the reader's first drain (the wake sent
    // below) looks at the queue whatever was enqueued before `watch`.
    signals.push_back(std::make_unique<wake_signal>(caf::actor{}, true));
    auto* sig = signals.back().get();
    auto limits = opts.reader;
    if (reader_bytes)
      limits.max_bytes = opts.reader_floor; // and steps of the shared budget
    // A full batch must fit, or the batcher would wait for the window.
    limits.max_records = std::max(limits.max_records,
                                  static_cast<size_t>(opts.config.batch_size));
    int64_t skip_ts = -1;
    if (auto s = skip_before.find(e.partition); s != skip_before.end()) {
      skip_ts = s->second;
      skip_before.erase(s);
    }
    auto probe = std::make_shared<reader_probe>();
    auto reader = self->spawn<caf::monitored>(
      partition_reader, std::string(e.topic), e.partition, gen, skip_ts, wq,
      sig, batchers[poller], caf::actor_cast<caf::actor>(self), limits, probe,
      counters, filter, opts.schemas, reader_bytes);
    ++readers_alive;
    self->send(batchers[poller], assign_atom_v, e.partition, gen, reader);
    sig->target = reader;
    wq->watch(sig);
    self->send(reader, wake_atom_v);
    auto& a = partitions[e.partition];
    a = assigned{};
    a.reader = reader;
    a.generation = gen;
    a.poller = poller;
    a.queue = wq;
    a.probe = std::move(probe);
    a.since = std::chrono::steady_clock::now();
    a.wait = opts.reader.kick_after;
    positions[e.partition] = e.offset >= 0 ? e.offset : -1;
    list += (list.empty() ? "" : ",") + std::to_string(e.partition) + "@"
            + (e.offset >= 0 ? std::to_string(e.offset)
                             : std::string(e.offset == RD_KAFKA_OFFSET_BEGINNING
                                             ? "beginning"
                                             : "end"));
  }
  status.assigned.clear();
  for (auto& [p, a] : partitions)
    status.assigned.push_back(p);
  arm_watch(); // not the check itself: this runs in the rebalance callback
  // New partitions may come with a backlog: look again in a second rather
  // than a whole period.
  auto now = std::chrono::steady_clock::now();
  next_evaluation = std::min(next_evaluation, now + std::chrono::seconds(1));
  if (partitions.size() == static_cast<size_t>(parts->cnt)) {
    period_start = now; // the first partitions: nothing ran before them
    busy_us = 0;
  }
  log(log_level::info, "mapping " + status.uuid,
      "assigned " + topic() + " partitions [" + list + "]");
}

void supervisor_state::revoke(rd_kafka_topic_partition_list_t* parts) {
  if (stopping) // the close commits; a stalled broker must not hold it
    rd_kafka_commit(rk.get(), nullptr, 1);
  else
    commit_sync("revoke");
  ++status.revocations;
  transport::count(counters.revocations, parts->cnt);
  std::string list;
  for (int i = 0; i < parts->cnt; ++i) {
    auto p = parts->elems[i].partition;
    auto it = partitions.find(p);
    if (it == partitions.end())
      continue;
    self->send(batchers[it->second.poller], revoke_atom_v, p);
    self->send_exit(it->second.reader, caf::exit_reason::user_shutdown);
    partitions.erase(it);
    positions.erase(p);
    list += (list.empty() ? "" : ",") + std::to_string(p);
  }
  status.assigned.clear();
  for (auto& [p, a] : partitions)
    status.assigned.push_back(p);
  log(log_level::info, "mapping " + status.uuid,
      "revoked " + topic() + " partitions [" + list + "]");
}

void supervisor_state::commit_sync(const char* why) {
  auto err = rd_kafka_commit(rk.get(), nullptr, 0);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
    log(log_level::warning, "mapping " + status.uuid,
        std::string("commit on ") + why + " failed: " + rd_kafka_err2str(err));
}

void supervisor_state::poll_consumer() {
  if (closed)
    return;
  if (consumer_queue)
    signals.front()->rearm();
  while (auto* msg = rd_kafka_consumer_poll(rk.get(), 0)) {
    transport::message_ptr m{msg};
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      transport::count(counters.polling_errors);
      auto text = std::string(rd_kafka_message_errstr(m.get()));
      if (auto* transition = access_failure(m->err, text))
        fail_access(text, transition);
      else if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
          || m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
        set_result("PROBLEM: Topic not found: " + topic());
      else
        set_result("PROBLEM: Connection error: " + text);
      continue;
    }
    // A record on the consumer queue means a partition queue was not
    // split off in time; rewind so it is read again, never skipped.
    log(log_level::error, "mapping " + status.uuid,
        "record of partition " + std::to_string(m->partition)
          + " on the consumer queue; seeking back to "
          + std::to_string(m->offset));
    transport::tpl_ptr seek{rd_kafka_topic_partition_list_new(1)};
    rd_kafka_topic_partition_list_add(seek.get(), topic().c_str(),
                                      m->partition)
      ->offset = m->offset;
    if (auto* e = rd_kafka_seek_partitions(rk.get(), seek.get(), 5000))
      rd_kafka_error_destroy(e);
  }
}

void supervisor_state::stage_commit(transport::tpl_ptr& list,
                                    int32_t partition, int64_t next,
                                    size_t records) {
  if (!list)
    list.reset(rd_kafka_topic_partition_list_new(4));
  rd_kafka_topic_partition_list_add(list.get(), topic().c_str(), partition)
    ->offset = next;
  if (auto pos = positions.find(partition); pos != positions.end())
    pos->second = next;
  status.completed_records += records;
  transport::count(counters.committed, static_cast<double>(records));
}

void supervisor_state::kick_fetch(int32_t partition, int64_t next) {
  int64_t low = 0, high = 0;
  // librdkafka's cached watermarks (from the last fetch): no broker call.
  if (rd_kafka_get_watermark_offsets(rk.get(), topic().c_str(), partition,
                                     &low, &high)
        != RD_KAFKA_RESP_ERR_NO_ERROR
      || high <= next)
    return; // nothing more to fetch, or nothing known
  transport::tpl_ptr list{rd_kafka_topic_partition_list_new(1)};
  // Exactly the reader's next offset. Not rd_kafka_position: librdkafka
  // advances it for records it then purges as outdated at a seek's
  // barrier, so after one restart it can be ahead of what the reader got
  // (seeking there skipped records). If the reader took more since it
  // asked, the records from `next` come again and it drops them.
  rd_kafka_topic_partition_list_add(list.get(), topic().c_str(), partition)
    ->offset = next;
  // Asynchronous: a new fetch version; what the old fetch brings later is
  // discarded by librdkafka, and the fetch starts over at `next`.
  if (auto* err = rd_kafka_seek_partitions(rk.get(), list.get(), 0))
    rd_kafka_error_destroy(err);
  ++status.fetch_kicks;
}

void supervisor_state::watch_fetches() {
  // Up to a 1 s wait, then stop: librdkafka looks again by itself within
  // a second, and a partition with nothing new needs no check.
  constexpr std::chrono::milliseconds longest_wait{1000};
  auto kick_after = opts.reader.kick_after;
  if (kick_after.count() == 0 || stopping || closed)
    return;
  auto now = std::chrono::steady_clock::now();
  // Records arrived on some partition since the last check: fetches are
  // being answered, and librdkafka puts a partition with an empty queue
  // in the next one by itself. Restarting it then throws away its part of
  // a fetch in flight (one slower than the wait: 630 restarts a
  // 64-partition run at 20 ms, most of them of that kind). So a partition
  // waits `flowing_factor` times longer while others get records; with
  // nothing arriving anywhere (librdkafka's broker thread asleep) the
  // short wait holds.
  constexpr int flowing_factor = 5;
  bool flowing = false;
  for (auto& [p, a] : partitions) {
    auto seq = a.probe->data_seq.load(std::memory_order_relaxed);
    if (seq != a.seen_seq) { // records arrived: the wait starts over, short
      a.seen_seq = seq;
      a.since = now;
      a.wait = kick_after;
      a.idle = false;
      flowing = true;
    }
  }
  bool active = false;
  for (auto& [p, a] : partitions) {
    if (a.idle)
      continue;
    active = true;
    auto wait = flowing ? std::max(a.wait, kick_after * flowing_factor)
                        : a.wait;
    if (now - a.since < wait)
      continue;
    a.since = now;
    // Records queued (the reader drains them, or waits for credit) or a
    // chunk waiting for its schema: not a stalled fetch.
    if (a.probe->parked.load(std::memory_order_relaxed)
        || rd_kafka_queue_length(a.queue->get()) > 0)
      continue;
    auto next = a.probe->next_offset.load(std::memory_order_relaxed);
    if (next >= 0)
      kick_fetch(p, next);
    if (a.wait >= longest_wait)
      a.idle = true;
    else
      a.wait = std::min(a.wait * 2, longest_wait);
  }
  if (active)
    arm_watch();
}

void supervisor_state::arm_watch() {
  auto kick_after = opts.reader.kick_after;
  if (watch_armed || kick_after.count() == 0)
    return;
  watch_armed = true;
  auto step = std::max(kick_after / 2, std::chrono::milliseconds{1});
  self->delayed_send(self, step, kick_atom_v);
}

void supervisor_state::store_offsets(const transport::tpl_ptr& list) {
  if (!list)
    return;
  auto err = rd_kafka_offsets_store(rk.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    log(log_level::warning, "mapping " + status.uuid,
        std::string("offset store failed: ") + rd_kafka_err2str(err));
}

void supervisor_state::store(const batch& b) {
  transport::tpl_ptr list;
  for (auto& part : b.parts)
    if (owns(part.partition, part.generation)) // else revoked since: the
      stage_commit(list, part.partition,        // new owner delivers again
                   part.next_offset(), part.count);
  store_offsets(list);
}

void supervisor_state::abandon_pollers() {
  if (pollers_abandoned)
    return;
  pollers_abandoned = true;
  log(log_level::warning, "mapping " + status.uuid,
      "in-flight batches did not finish within the shutdown grace of "
        + std::to_string(opts.shutdown_grace.count())
        + " ms; abandoning them (their records are not committed and will"
          " be delivered again)");
  // The handles stay: an outcome still in the mailbox, or the revoke the
  // close serves, may address them (a message to a dead actor is dropped).
  auto kill = [&](const std::vector<caf::actor>& actors) {
    for (auto& a : actors) {
      self->unlink_from(a);
      self->monitor(a);
      abandoned.push_back(a.address());
      self->send_exit(a, caf::exit_reason::kill);
    }
  };
  kill(batchers);
  kill(invokers);
}

void supervisor_state::close_consumer() {
  // Asynchronous close, served here with a deadline: a broker that does
  // not answer must not hold the stop (the group then expires the member
  // after session.timeout.ms).
  transport::queue_ptr q{rd_kafka_queue_new(rk.get())};
  if (auto* e = rd_kafka_consumer_close_queue(rk.get(), q.get())) {
    log(log_level::warning, "mapping " + status.uuid,
        std::string("consumer close failed: ") + rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!rd_kafka_consumer_closed(rk.get())) {
    if (std::chrono::steady_clock::now() >= deadline) {
      log(log_level::warning, "mapping " + status.uuid,
          "the broker did not confirm leaving the group within 5 s; the"
          " group will expire this member");
      return;
    }
    transport::event_ptr ev{rd_kafka_queue_poll(q.get(), 100)};
    if (ev && rd_kafka_event_type(ev.get()) == RD_KAFKA_EVENT_REBALANCE)
      on_rebalance(rk.get(), rd_kafka_event_error(ev.get()),
                   rd_kafka_event_topic_partition_list(ev.get()), this);
  }
}

void supervisor_state::finish_stop() {
  if (closed || drains_pending > 0 || !abandoned.empty())
    return;
  if (sink && sink->in_flight() > 0)
    sink->flush(static_cast<int>(
      std::min<int64_t>(opts.shutdown_grace.count(), 5000)));
  // Abandoned batches' records stay uncommitted: stored offsets only
  // cover finished work. Their messages are released before the close.
  release_batches();
  // Stored offsets go with the close (enable.auto.commit); an explicit
  // asynchronous commit first, so a slow close still sends them.
  rd_kafka_commit(rk.get(), nullptr, 1);
  close_consumer();
  closed = true;
  for (auto& [p, a] : partitions)
    self->send_exit(a.reader, caf::exit_reason::user_shutdown);
  partitions.clear();
  status.assigned.clear();
  set_state("Disabled");
  if (readers_alive == 0)
    self->quit(exit_reason);
}

} // namespace kesm::actors::detail
