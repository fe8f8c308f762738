#include "transport/dead_letter_sink.hpp"

#include "transport/log.hpp"

namespace kesm::transport {

void dead_letter_delivered(rd_kafka_t*, const rd_kafka_message_t* msg,
                           void* opaque) {
  auto* self = static_cast<dead_letter_sink*>(opaque);
  auto id = reinterpret_cast<uintptr_t>(msg->_private);
  if (self->in_flight_.erase(id) == 0)
    return; // reported already (producer rebuilt)
  dead_letter_sink::report r;
  r.id = id;
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR)
    r.error = rd_kafka_err2str(msg->err);
  self->reports_.push_back(std::move(r));
}

dead_letter_sink::dead_letter_sink(std::string bootstrap, kafka_props props)
  : bootstrap_(std::move(bootstrap)), props_(std::move(props)) {
  // nop
}

dead_letter_sink::~dead_letter_sink() {
  rk_.reset();
}

codecs::expected<std::unique_ptr<dead_letter_sink>>
dead_letter_sink::connect(const std::string& bootstrap, kafka_props extra) {
  std::unique_ptr<dead_letter_sink> sink{
    new dead_letter_sink(bootstrap, std::move(extra))};
  if (auto ok = sink->rebuild(); !ok)
    return ok.err();
  return sink;
}

codecs::expected<bool> dead_letter_sink::rebuild() {
  // Destroying the old client may deliver reports of what it still held:
  // none is in `in_flight_` any more, so they are ignored. Purged first
  // so that the destroy does not wait for them.
  if (rk_)
    rd_kafka_purge(rk_.get(),
                   RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rk_.reset();
  kafka_props props = props_;
  props["bootstrap.servers"] = bootstrap_;
  props["enable.idempotence"] = "true";
  props["acks"] = "all";
  props.emplace("linger.ms", "2");
  // A write that cannot be acknowledged within this is reported failed and
  // sent again by the owner; the source offset waits meanwhile.
  props.emplace("message.timeout.ms", "10000");
  props.emplace("log_level", "3");
  auto conf = make_conf(props);
  if (!conf)
    return conf.err();
  rd_kafka_conf_set_dr_msg_cb(conf->get(), dead_letter_delivered);
  rd_kafka_conf_set_opaque(conf->get(), this);
  auto rk = make_client(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk)
    return rk.err();
  rk_ = std::move(*rk);
  return true;
}

void dead_letter_sink::send(const std::string& topic, const void* key,
                            size_t key_len, const std::string& value,
                            uint64_t id) {
  if (!rk_) {
    if (auto ok = rebuild(); !ok) {
      reports_.push_back(report{id, ok.err().message});
      return;
    }
  }
  auto err = rd_kafka_producev(
    rk_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
    RD_KAFKA_V_KEY(key, key_len),
    RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
    RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(id))),
    RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    reports_.push_back(report{id, rd_kafka_err2str(err)});
    return;
  }
  in_flight_.insert(id);
}

std::vector<dead_letter_sink::report> dead_letter_sink::poll() {
  if (!rk_) {
    std::vector<report> out;
    out.swap(reports_);
    return out;
  }
  rd_kafka_poll(rk_.get(), 0);
  char reason[256];
  if (rd_kafka_fatal_error(rk_.get(), reason, sizeof(reason))
      != RD_KAFKA_RESP_ERR_NO_ERROR) {
    log(log_level::error, "dead letters",
        std::string("producer failed fatally (") + reason
          + "); rebuilding it and sending what was in flight again");
    for (auto id : in_flight_)
      reports_.push_back(report{id, std::string("fatal: ") + reason});
    in_flight_.clear();
    if (auto ok = rebuild(); !ok)
      log(log_level::error, "dead letters", ok.err().message);
  }
  bool failed = false;
  for (auto& r : reports_)
    failed = failed || !r.error.empty();
  if (failed) {
    // Start over with a fresh producer (new producer id): after a failed
    // write an idempotent producer bumps its epoch and may hold or drop
    // what it still has in flight; a new one has no such state. What was in
    // flight is reported failed and written again by the owner (a copy may
    // land twice: at-least-once).
    for (auto id : in_flight_)
      reports_.push_back(report{id, "written again after a failed write"});
    in_flight_.clear();
    if (auto ok = rebuild(); !ok)
      log(log_level::error, "dead letters", ok.err().message);
  }
  std::vector<report> out;
  out.swap(reports_);
  return out;
}

void dead_letter_sink::flush(int timeout_ms) {
  if (rk_)
    rd_kafka_flush(rk_.get(), timeout_ms);
}

} // namespace kesm::transport
