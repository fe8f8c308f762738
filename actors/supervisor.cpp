#include "actors/supervisor.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <unordered_map>

#include "actors/batcher.hpp"
#include "actors/capacity_pool.hpp"
#include "actors/handoff.hpp"
#include "actors/invoker.hpp"
#include "actors/supervisor_state.hpp"
#include "actors/wake_signal.hpp"

namespace kesm::actors {

namespace {

using namespace detail;

/// librdkafka's per-partition pre-fetch (KB, messages): the explicit
/// options, else the mapping's budgets split over the topic's partitions
/// (asked of the cluster once, here on the supervisor's own thread; a
/// cluster that does not answer in 2 s gets the 64-partition floors).
std::pair<int, int> prefetch_limits(const supervisor_state& st) {
  auto kb = st.opts.prefetch_kbytes, msgs = st.opts.prefetch_messages;
  if (kb > 0 && msgs > 0)
    return {kb, msgs};
  transport::kafka_props meta = st.opts.kafka;
  meta["bootstrap.servers"] = st.opts.config.bootstrap_string();
  meta["log_level"] = "0";
  int parts = 64;
  if (auto n = transport::topic_partitions(meta, st.opts.config.topic, 2000))
    parts = std::max(1, *n);
  if (kb <= 0)
    kb = std::clamp(st.opts.prefetch_budget_kbytes / parts, 1024, 8192);
  if (msgs <= 0)
    msgs = std::clamp(st.opts.prefetch_budget_messages / parts, 2000, 20000);
  return {kb, msgs};
}

caf::behavior supervisor(caf::stateful_actor<supervisor_state>* self,
                         mapping_options opts) {
  auto& st = self->state;
  st.self = self;
  st.opts = std::move(opts);
  auto& cfg = st.opts.config;
  st.status.uuid = cfg.uuid;
  if (st.opts.metrics)
    st.counters = st.opts.metrics->add(cfg.uuid, cfg.topic);
  st.status.last_processing_result = "No records processed";
  st.set_state("Creating");
  st.writer = std::make_shared<codecs::event_writer>(cfg.event_source_arn,
                                                     cfg.bootstrap_string());
  if (st.opts.reader_budget > 0)
    st.reader_bytes = std::make_shared<reader_budget>(st.opts.reader_budget);
  auto me = caf::actor_cast<caf::actor>(self);
  if (auto f = codecs::record_filter::compile(
        cfg.filter_patterns, cfg.schema_registry.enabled()); f) {
    st.filter = std::make_shared<const codecs::record_filter>(std::move(*f));
  } else {
    st.set_result("PROBLEM: " + f.err().message);
    self->quit(caf::make_error(caf::sec::invalid_argument,
                               st.status.last_processing_result));
    return {};
  }
  // The first poller count: the floor of the mapping's bounds (a
  // provisioned minimum is there from the start, even idle).
  uint32_t floor = 1, ceiling = 1;
  codecs::scaling_range(st.scaling_bounds(), floor, ceiling);
  if (st.opts.capacity) // counted from the start by the other mappings
    floor = std::max<uint32_t>(
      1, st.opts.capacity->share(cfg.uuid, cfg.poller_group,
                                 codecs::capacity_demand{floor, floor, 0}));
  st.scaling.pollers = floor;
  st.status.pollers = floor;
  st.slots.assign(std::max<size_t>(1, st.opts.pollers), 0);
  st.apply_pollers(floor); // fills st.slots; no actor to tell yet
  st.period_start = std::chrono::steady_clock::now();
  st.next_evaluation = st.period_start + st.opts.scaling_interval;
  for (size_t i = 0; i < st.slots.size(); ++i) {
    auto inv = self->spawn<caf::linked>(invoker, invoker_settings(st, i), me);
    batcher_config bc;
    bc.batch_size = static_cast<size_t>(cfg.batch_size);
    bc.window = std::chrono::milliseconds{cfg.window_ms};
    bc.max_payload = st.opts.max_payload;
    bc.max_in_flight = st.slots[i];
    bc.poller = i;
    bc.supervisor = me;
    st.invokers.push_back(inv);
    st.batchers.push_back(self->spawn<caf::linked>(batcher, bc, st.writer, inv));
  }
  auto prefetch = prefetch_limits(st);
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
    {"fetch.wait.max.ms", fetch_wait_ms},
    // Quicker failover than librdkafka's 45 s when a kesm node dies.
    {"session.timeout.ms", "10000"},
    {"queued.max.messages.kbytes", std::to_string(prefetch.first)},
    {"queued.min.messages", std::to_string(prefetch.second)},
    // With KESM_COPY_RECORDS=0 records keep their whole fetch response
    // alive (zero copy): smaller responses pin less memory while a few of
    // their records wait. (By default readers copy records out.)
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
    self->quit(caf::make_error(caf::sec::invalid_argument,
                               st.status.last_processing_result));
    return {};
  }
  rd_kafka_conf_set_rebalance_cb(conf->get(), on_rebalance);
  rd_kafka_conf_set_error_cb(conf->get(), on_error);
  rd_kafka_conf_set_opaque(conf->get(), &st);
  auto rk = transport::make_client(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!rk) {
    st.set_result("PROBLEM: " + rk.err().message);
    self->quit(caf::make_error(caf::sec::invalid_argument,
                               st.status.last_processing_result));
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
                auto& st = self->state;
                --st.drains_pending;
                st.abandon_pollers();
                st.finish_stop();
              });
  });
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    auto ab = std::find(st.abandoned.begin(), st.abandoned.end(), dm.source);
    if (ab != st.abandoned.end()) {
      st.abandoned.erase(ab);
      st.finish_stop();
      return;
    }
    if (st.readers_alive > 0)
      --st.readers_alive;
    if (st.closed && st.readers_alive == 0)
      self->quit(st.exit_reason);
  });
  self->send(self, tick_atom_v);
  return {
    [=](wake_atom) { self->state.poll_consumer(); },
    [=](wake_atom, const std::string& fetch_error) {
      transport::count(self->state.counters.polling_errors);
      self->state.set_result("PROBLEM: " + fetch_error);
    },
    [=](tick_atom) {
      self->state.poll_consumer();
      self->state.maybe_scale();
      self->state.watch_fetches();
      if (!self->state.closed)
        self->delayed_send(self, std::chrono::milliseconds(250), tick_atom_v);
    },
    [=](outcome_atom, const batch_ptr& b, outcome& out) {
      handoff_receive(b.get());
      auto& st = self->state;
      st.busy_us += out.micros;
      if (out.kind == outcome_kind::throttled)
        ++st.period_throttles;
      st.on_outcome(b, std::move(out));
    },
    [=](sink_atom) { self->state.poll_sink(); },
    [=](sink_atom, uint64_t id) { self->state.write_dead_letter(id); },
    [=](skipped_atom, int32_t partition, uint64_t generation, int64_t next) {
      auto& st = self->state;
      if (st.stopping || !st.owns(partition, generation))
        return;
      transport::tpl_ptr list;
      st.stage_commit(list, partition, next, 0);
      st.store_offsets(list);
    },
    [=](kick_atom) {
      self->state.watch_armed = false;
      self->state.watch_fetches();
    },
    [=](kick_atom, int32_t partition, uint64_t generation, int64_t next) {
      auto& st = self->state;
      if (st.stopping || st.closed || !st.owns(partition, generation))
        return;
      st.kick_fetch(partition, next);
    },
    [=](status_atom) { return self->state.snapshot(); },
    [=](config_atom, codecs::mapping_config& next,
        transport::function_target_ptr& target) {
      auto& st = self->state;
      st.set_state("Updating");
      auto f = codecs::record_filter::compile(
        next.filter_patterns, next.schema_registry.enabled());
      if (!f) {
        log(log_level::error, "mapping " + st.status.uuid, f.err().message);
        return false;
      }
      st.filter = std::make_shared<const codecs::record_filter>(std::move(*f));
      for (auto& [p, a] : st.partitions)
        self->send(a.reader, config_atom_v, st.filter,
                   static_cast<uint64_t>(next.batch_size));
      st.opts.config = std::move(next);
      st.opts.target = std::move(target);
      auto& cfg = st.opts.config;
      for (auto& b : st.batchers)
        self->send(b, config_atom_v, static_cast<uint64_t>(cfg.batch_size),
                   static_cast<int64_t>(cfg.window_ms));
      for (size_t i = 0; i < st.invokers.size(); ++i)
        self->send(st.invokers[i], invoker_settings(st, i));
      st.next_evaluation = {}; // new bounds apply at the next tick
      log(log_level::info, "mapping " + st.status.uuid,
          "updated live: BatchSize " + std::to_string(cfg.batch_size)
            + ", window " + std::to_string(cfg.window_ms) + " ms, function "
            + st.opts.target->describe());
      st.set_state(st.stopping ? "Disabling" : "Enabled");
      return true;
    },
  };
}

} // namespace

caf::actor spawn_mapping(caf::actor_system& sys, mapping_options opts) {
  return sys.spawn<caf::detached>(supervisor, std::move(opts));
}

} // namespace kesm::actors
