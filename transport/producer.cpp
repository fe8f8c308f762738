#include "transport/producer.hpp"

namespace kesm::transport {

namespace {

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR && opaque != nullptr)
    ++*static_cast<int*>(opaque);
}

} // namespace

producer::producer(kafka_ptr rk, std::unique_ptr<int> failures)
  : rk_(std::move(rk)), failures_(std::move(failures)) {
  // nop
}

codecs::expected<producer> producer::connect(const std::string& bootstrap,
                                             kafka_props extra) {
  extra.emplace("bootstrap.servers", bootstrap);
  extra.emplace("enable.idempotence", "true");
  extra.emplace("linger.ms", "5");
  extra.emplace("log_level", "3");
  auto conf = make_conf(extra);
  if (!conf)
    return conf.err();
  auto failures = std::make_unique<int>(0);
  rd_kafka_conf_set_dr_msg_cb(conf->get(), on_delivery);
  rd_kafka_conf_set_opaque(conf->get(), failures.get());
  auto rk = make_client(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk)
    return rk.err();
  return producer{std::move(*rk), std::move(failures)};
}

codecs::expected<bool> producer::produce(const outgoing_record& rec) {
  rd_kafka_headers_t* hdrs = nullptr;
  if (!rec.headers.empty()) {
    hdrs = rd_kafka_headers_new(rec.headers.size());
    for (const auto& [k, v] : rec.headers)
      rd_kafka_header_add(hdrs, k.data(), static_cast<ssize_t>(k.size()),
                          v.data(), v.size());
  }
  const void* key = rec.key ? rec.key->data() : nullptr;
  size_t key_len = rec.key ? rec.key->size() : 0;
  void* value = rec.value ? const_cast<char*>(rec.value->data()) : nullptr;
  size_t value_len = rec.value ? rec.value->size() : 0;
  for (;;) {
    auto err = rd_kafka_producev(
      rk_.get(), RD_KAFKA_V_TOPIC(rec.topic.c_str()),
      RD_KAFKA_V_PARTITION(rec.partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE(value, value_len),
      RD_KAFKA_V_TIMESTAMP(rec.timestamp_ms),
      RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk_.get(), 10);
      continue;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (hdrs != nullptr)
        rd_kafka_headers_destroy(hdrs);
      return codecs::error{codecs::errc::invalid_parameter,
                           "produce to " + rec.topic + " failed: "
                             + rd_kafka_err2str(err)};
    }
    return true; // headers are now owned by the message
  }
}

codecs::expected<bool> producer::flush(int timeout_ms) {
  auto err = rd_kafka_flush(rk_.get(), timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return codecs::error{codecs::errc::invalid_parameter,
                         std::string("flush failed: ") + rd_kafka_err2str(err)};
  if (*failures_ > 0)
    return codecs::error{codecs::errc::invalid_parameter,
                         std::to_string(*failures_)
                           + " records were not delivered"};
  return true;
}

} // namespace kesm::transport
