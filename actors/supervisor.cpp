#include "actors/supervisor.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <unordered_map>

#include "actors/batcher.hpp"
#include "actors/handoff.hpp"
#include "actors/invoker.hpp"
#include "actors/wake_signal.hpp"
#include "transport/log.hpp"

namespace kesm::actors {

namespace {

using transport::log;
using transport::log_level;

/// State of a supervisor. Touched only by the supervisor's own thread
/// (librdkafka's rebalance callback runs inside `rd_kafka_consumer_poll`,
/// which only the supervisor calls).
struct supervisor_state {
  struct assigned {
    caf::actor reader;
    uint64_t generation = 0;
    size_t poller = 0;
  };
  struct retry_info {
    uint32_t attempts = 0;
    uint32_t throttles = 0;
  };

  caf::stateful_actor<supervisor_state>* self = nullptr;
  mapping_options opts;
  mapping_status status;
  // Declared before `rk`: librdkafka may call into a signal until the
  // client is gone, so signals are destroyed after it.
  std::vector<std::unique_ptr<wake_signal>> signals;
  transport::kafka_ptr rk;
  std::unique_ptr<watched_queue> consumer_queue;
  std::shared_ptr<const codecs::event_writer> writer;
  std::vector<caf::actor> batchers;
  std::vector<caf::actor> invokers;
  std::map<int32_t, assigned> partitions;
  uint64_t next_generation = 1;
  std::unordered_map<const batch*, retry_info> retries;
  /// AT_TIMESTAMP partitions the broker could not resolve: the reader
  /// passes over older records itself. Filled by resolve, used by assign.
  std::map<int32_t, int64_t> skip_before;
  std::mt19937_64 rng{std::random_device{}()};
  bool stopping = false;
  bool closed = false;
  size_t drains_pending = 0;
  size_t readers_alive = 0;
  caf::error exit_reason;
  std::string last_error;

  static inline const char* name = "kesm.supervisor";

  ~supervisor_state() {
    consumer_queue.reset();
    rk.reset();
  }

  void set_state(const char* next) {
    if (status.state == next)
      return;
    log(log_level::info, "mapping " + status.uuid,
        "State " + (status.state.empty() ? std::string("-") : status.state)
          + " -> " + next);
    status.state = next;
  }

  void set_result(std::string result) {
    if (status.last_processing_result == result)
      return;
    log(result == "OK" ? log_level::info : log_level::warning,
        "mapping " + status.uuid, "LastProcessingResult: " + result);
    status.last_processing_result = std::move(result);
  }

  const std::string& topic() const {
    return opts.config.topic;
  }

  void assign(rd_kafka_topic_partition_list_t* parts);
  void revoke(rd_kafka_topic_partition_list_t* parts);
  void resolve_start_offsets(rd_kafka_topic_partition_list_t* parts);
  void poll_consumer();
  void store(const batch& b);
  void commit_sync(const char* why);
  void finish_stop();
};

void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                  rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto* st = static_cast<supervisor_state*>(opaque);
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
    signals.push_back(std::make_unique<wake_signal>(caf::actor{}));
    auto* sig = signals.back().get();
    auto limits = opts.reader;
    if (opts.reader_budget > 0) {
      size_t count = partitions.size() + static_cast<size_t>(parts->cnt);
      limits.max_bytes = std::clamp<size_t>(opts.reader_budget / count,
                                            size_t{1} << 20, size_t{12} << 20);
    }
    // A full batch must fit, or the batcher would wait for the window.
    limits.max_records = std::max(limits.max_records,
                                  static_cast<size_t>(opts.config.batch_size));
    int64_t skip_ts = -1;
    if (auto s = skip_before.find(e.partition); s != skip_before.end()) {
      skip_ts = s->second;
      skip_before.erase(s);
    }
    auto reader = self->spawn<caf::monitored>(
      partition_reader, std::string(e.topic), e.partition, gen, skip_ts, wq,
      sig,
      batchers[poller], caf::actor_cast<caf::actor>(self), limits);
    ++readers_alive;
    self->send(batchers[poller], assign_atom_v, e.partition, gen, reader);
    sig->target = reader;
    wq->watch(sig);
    self->send(reader, wake_atom_v);
    partitions[e.partition] = assigned{reader, gen, poller};
    list += (list.empty() ? "" : ",") + std::to_string(e.partition) + "@"
            + (e.offset >= 0 ? std::to_string(e.offset)
                             : std::string(e.offset == RD_KAFKA_OFFSET_BEGINNING
                                             ? "beginning"
                                             : "end"));
  }
  status.assigned.clear();
  for (auto& [p, a] : partitions)
    status.assigned.push_back(p);
  log(log_level::info, "mapping " + status.uuid,
      "assigned " + topic() + " partitions [" + list + "]");
}

void supervisor_state::revoke(rd_kafka_topic_partition_list_t* parts) {
  commit_sync("revoke");
  std::string list;
  for (int i = 0; i < parts->cnt; ++i) {
    auto p = parts->elems[i].partition;
    auto it = partitions.find(p);
    if (it == partitions.end())
      continue;
    self->send(batchers[it->second.poller], revoke_atom_v, p);
    self->send_exit(it->second.reader, caf::exit_reason::user_shutdown);
    partitions.erase(it);
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
      auto text = std::string(rd_kafka_message_errstr(m.get()));
      if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
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

void supervisor_state::store(const batch& b) {
  transport::tpl_ptr list{
    rd_kafka_topic_partition_list_new(static_cast<int>(b.parts.size()))};
  for (auto& part : b.parts) {
    auto it = partitions.find(part.partition);
    if (it == partitions.end() || it->second.generation != part.generation)
      continue; // revoked since: the new owner delivers these again
    rd_kafka_topic_partition_list_add(list.get(), topic().c_str(),
                                      part.partition)
      ->offset = part.last_offset + 1;
    status.completed_records += part.count;
  }
  if (list->cnt == 0)
    return;
  auto err = rd_kafka_offsets_store(rk.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    log(log_level::warning, "mapping " + status.uuid,
        std::string("offset store failed: ") + rd_kafka_err2str(err));
}

void supervisor_state::finish_stop() {
  if (closed || drains_pending > 0)
    return;
  commit_sync("shutdown");
  // Leaves the group; serves the final revoke through on_rebalance.
  rd_kafka_consumer_close(rk.get());
  closed = true;
  for (auto& [p, a] : partitions)
    self->send_exit(a.reader, caf::exit_reason::user_shutdown);
  partitions.clear();
  status.assigned.clear();
  set_state("Disabled");
  if (readers_alive == 0)
    self->quit(exit_reason);
}

bool any_current(const supervisor_state& st, const batch& b) {
  for (auto& part : b.parts) {
    auto it = st.partitions.find(part.partition);
    if (it != st.partitions.end() && it->second.generation == part.generation)
      return true;
  }
  return false;
}

caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self,
                         mapping_options opts) {
  auto& st = self->state;
  st.self = self;
  st.opts = std::move(opts);
  auto& cfg = st.opts.config;
  st.status.uuid = cfg.uuid;
  st.status.last_processing_result = "No records processed";
  st.set_state("Creating");
  st.writer = std::make_shared<codecs::event_writer>(cfg.event_source_arn,
                                                     cfg.bootstrap_string());
  auto me = caf::actor_cast<caf::actor>(self);
  for (size_t i = 0; i < std::max<size_t>(1, st.opts.pollers); ++i) {
    auto inv = self->spawn<caf::linked>(invoker, st.opts.target, me,
                                        st.opts.max_concurrency);
    batcher_config bc;
    bc.batch_size = static_cast<size_t>(cfg.batch_size);
    bc.window = std::chrono::milliseconds{cfg.window_ms};
    bc.max_payload = st.opts.max_payload;
    bc.max_in_flight = st.opts.max_concurrency;
    bc.poller = i;
    st.invokers.push_back(inv);
    st.batchers.push_back(self->spawn<caf::linked>(batcher, bc, st.writer, inv));
  }
  transport::kafka_props props{
    {"bootstrap.servers", cfg.bootstrap_string()},
    {"group.id", cfg.consumer_group_id},
    {"enable.auto.commit", "true"},
    {"enable.auto.offset.store", "false"},
    {"auto.commit.interval.ms", std::to_string(st.opts.commit_interval.count())},
    {"auto.offset.reset",
     cfg.start == codecs::starting_position::latest ? "latest" : "earliest"},
    {"partition.assignment.strategy", "cooperative-sticky"},
    {"enable.partition.eof", "false"},
    // Real brokers answer a fetch as soon as data is there; the embedded
    // broker waits the full time, so keep the idle wait short.
    {"fetch.wait.max.ms", "100"},
    // Quicker failover than librdkafka's 45 s when a kesm node dies.
    {"session.timeout.ms", "10000"},
    {"queued.max.messages.kbytes", std::to_string(st.opts.prefetch_kbytes)},
    {"queued.min.messages", std::to_string(st.opts.prefetch_messages)},
    // Records keep their whole fetch response alive (zero copy): smaller
    // responses pin less memory while a few of their records wait.
    {"fetch.message.max.bytes", "262144"},
    {"fetch.max.bytes", "8388608"},
    {"client.id", "kesm-" + cfg.uuid},
    {"log_level", "3"},
  };
  for (auto& [k, v] : st.opts.kafka)
    props[k] = v;
  auto conf = transport::make_conf(props);
  if (!conf) {
    st.set_result("PROBLEM: " + conf.err().message);
    self->quit(caf::sec::invalid_argument);
    return {};
  }
  rd_kafka_conf_set_rebalance_cb(conf->get(), on_rebalance);
  rd_kafka_conf_set_opaque(conf->get(), &st);
  auto rk = transport::make_client(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk) {
    st.set_result("PROBLEM: " + rk.err().message);
    self->quit(caf::sec::invalid_argument);
    return {};
  }
  st.rk = std::move(*rk);
  rd_kafka_poll_set_consumer(st.rk.get());
  st.signals.push_back(std::make_unique<wake_signal>(me));
  st.consumer_queue = std::make_unique<watched_queue>(
    transport::queue_ptr{rd_kafka_queue_get_consumer(st.rk.get())});
  st.consumer_queue->watch(st.signals.front().get());
  transport::tpl_ptr topics{rd_kafka_topic_partition_list_new(1)};
  rd_kafka_topic_partition_list_add(topics.get(), cfg.topic.c_str(),
                                    RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(st.rk.get(), topics.get()))
    st.set_result(std::string("PROBLEM: subscribe failed: ")
                  + rd_kafka_err2str(err));
  st.set_state("Enabled");
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& st = self->state;
    if (msg.reason == caf::exit_reason::kill) {
      self->quit(msg.reason);
      return;
    }
    if (st.stopping)
      return;
    st.stopping = true;
    st.exit_reason = msg.reason;
    st.set_state("Disabling");
    st.drains_pending = st.batchers.size();
    for (auto& b : st.batchers)
      self->request(b, st.opts.shutdown_grace, drain_atom_v)
        .then([=](bool) {
                --self->state.drains_pending;
                self->state.finish_stop();
              },
              [=](caf::error&) {
                log(log_level::warning, "mapping " + self->state.status.uuid,
                    "in-flight batches did not finish within the shutdown"
                    " grace; they will be delivered again");
                --self->state.drains_pending;
                self->state.finish_stop();
              });
  });
  self->set_down_handler([=](caf::down_msg&) {
    auto& st = self->state;
    if (st.readers_alive > 0)
      --st.readers_alive;
    if (st.closed && st.readers_alive == 0)
      self->quit(st.exit_reason);
  });
  self->send(self, tick_atom_v);
  return {
    [=](wake_atom) { self->state.poll_consumer(); },
    [=](wake_atom, const std::string& fetch_error) {
      self->state.set_result("PROBLEM: " + fetch_error);
    },
    [=](tick_atom) {
      self->state.poll_consumer();
      if (!self->state.closed)
        self->delayed_send(self, std::chrono::milliseconds(250), tick_atom_v);
    },
    [=](outcome_atom, const batch_ptr& b, const outcome& out) {
      handoff_receive(b.get());
      auto& st = self->state;
      ++st.status.invocations;
      st.status.invoked_records += b->record_count();
      auto& batcher = st.batchers[b->poller];
      if (out.kind == outcome_kind::success) {
        st.retries.erase(b.get());
        st.status.batches_in_retry = st.retries.size();
        st.store(*b);
        st.set_result("OK");
        handoff_send(b.get());
        self->send(batcher, done_atom_v, b);
        return;
      }
      if (out.kind == outcome_kind::throttled)
        ++st.status.throttles;
      else
        ++st.status.function_errors;
      st.set_result("PROBLEM: " + out.detail);
      if (st.stopping || !any_current(st, *b)) {
        // Not retried: its partitions were revoked or we are stopping; the
        // records stay uncommitted and are delivered again later.
        st.retries.erase(b.get());
        st.status.batches_in_retry = st.retries.size();
        handoff_send(b.get());
        self->send(batcher, done_atom_v, b);
        return;
      }
      auto& info = st.retries[b.get()];
      auto n = out.kind == outcome_kind::throttled ? ++info.throttles
                                                   : ++info.attempts;
      auto delay = st.opts.retry_backoff.delay(n, st.rng);
      st.status.batches_in_retry = st.retries.size();
      handoff_send(b.get());
      self->delayed_send(st.invokers[b->poller], delay, b);
    },
    [=](skipped_atom, int32_t partition, uint64_t generation, int64_t next) {
      auto& st = self->state;
      auto it = st.partitions.find(partition);
      if (it == st.partitions.end() || it->second.generation != generation)
        return;
      transport::tpl_ptr list{rd_kafka_topic_partition_list_new(1)};
      rd_kafka_topic_partition_list_add(list.get(), st.topic().c_str(),
                                        partition)
        ->offset = next;
      rd_kafka_offsets_store(st.rk.get(), list.get());
    },
    [=](status_atom) { return self->state.status; },
  };
}

} // namespace

caf::actor spawn_mapping(caf::actor_system& sys, mapping_options opts) {
  return sys.spawn<caf::detached>(supervisor, std::move(opts));
}

} // namespace kesm::actors
